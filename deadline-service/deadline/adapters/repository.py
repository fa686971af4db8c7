"""All of deadline's SQL: tracked dossiers, their due times, pauses, timers and apologies, and the
reads of the API and the report. One repository per session.

What runs for every event and every tick goes to the driver connection as prepared SQL text
(`services.db`): the per-dossier lock is the parking's, the rest is here. The API's reads use
SQLAlchemy Core; the report's aggregate is in `deadline.adapters.report`."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, exists, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from deadline.adapters import report
from deadline.adapters.tables import apologies, deadlines, dossiers, pauses, timers
from deadline.application.ports import Row
from deadline.domain.report import Bucket, Dimension, Lateness, Period, ReportRow
from deadline.domain.tracking import LIVE, DeadlineState
from services.db import driver_connection, insert_row, insert_rows, update_row
from services.identity import Scope

_DOSSIER = ", ".join(c.name for c in dossiers.c)
_DEADLINE = ", ".join(c.name for c in deadlines.c)
_LIVE = ", ".join(f"'{state}'" for state in sorted(LIVE))

STATE = "SELECT state FROM deadline.dossiers WHERE dossier_id = $1"
LOCK_DOSSIER = f"SELECT {_DOSSIER} FROM deadline.dossiers WHERE dossier_id = $1 FOR UPDATE"
LOCK_DEADLINE = f"SELECT {_DEADLINE} FROM deadline.deadlines WHERE dossier_id = $1 AND scope = $2 AND step_id = $3 FOR UPDATE"
LOCK_DEADLINES = f"SELECT {_DEADLINE} FROM deadline.deadlines WHERE dossier_id = $1 AND state = ANY($2::varchar[]) FOR UPDATE"
STEPS = f"SELECT {_DEADLINE} FROM deadline.deadlines WHERE dossier_id = $1 AND scope = 'step'"
TRANSFER_STEP = (
    "UPDATE deadline.deadlines SET agency_code = $3, agency_name = $4 "
    f"WHERE dossier_id = $1 AND scope = 'step' AND step_id = $2 AND state IN ({_LIVE})"
)
CANCEL = (
    f"UPDATE deadline.deadlines SET state = '{DeadlineState.CANCELLED}', completed_at = $2 "
    f"WHERE dossier_id = $1 AND state IN ({_LIVE})"
)
OPEN_PAUSE = (
    "SELECT p.id, p.status, p.requested_by, p.step_id, p.paused_at, p.old_appointment_at, p.appointment_remaining_hours, "
    "d.state AS dossier_state, d.paused_status "
    "FROM deadline.pauses p JOIN deadline.dossiers d ON d.dossier_id = p.dossier_id "
    "WHERE p.dossier_id = $1 AND p.resumed_at IS NULL ORDER BY p.id DESC LIMIT 1"
)
END_PAUSE = "UPDATE deadline.pauses SET resumed_at = $2, new_appointment_at = $3 WHERE id = $1"
END_OPEN_PAUSES = "UPDATE deadline.pauses SET resumed_at = $2 WHERE dossier_id = $1 AND resumed_at IS NULL"
ARM = "ON CONFLICT ON CONSTRAINT uq_timer_once_per_due_time DO NOTHING"
DISARM_DOSSIER = "DELETE FROM deadline.timers WHERE dossier_id = $1 AND fire_at IS NOT NULL"
DISARM = "DELETE FROM deadline.timers WHERE dossier_id = $1 AND fire_at IS NOT NULL AND scope = $2 AND step_id = $3"
# The tick: the index on the next firing time (unfired rows only) finds what is due, never a scan
# of the open dossiers; SKIP LOCKED gives replicas disjoint batches.
CLAIM_DUE = (
    "SELECT t.id, t.dossier_id, t.scope, t.step_id, t.kind, t.due_at, "
    "d.state, d.due_at AS current_due_at, d.agency_code, d.agency_name "
    "FROM deadline.timers t JOIN deadline.deadlines d "
    "ON d.dossier_id = t.dossier_id AND d.scope = t.scope AND d.step_id = t.step_id "
    "WHERE t.fire_at IS NOT NULL AND t.fire_at <= $1 ORDER BY t.fire_at LIMIT $2 FOR UPDATE OF t SKIP LOCKED"
)
MARK_OVERDUE = "UPDATE deadline.deadlines SET overdue_at = $4 WHERE dossier_id = $1 AND scope = $2 AND step_id = $3"
MARK_FIRED = "UPDATE deadline.timers SET fire_at = NULL, fired_at = $2 WHERE id = ANY($1::bigint[])"


def in_scope(scope: Scope) -> ColumnElement[bool]:
    """The tracked dossiers a caller may read: every one, or those received at one of the scope's
    units or with a step (as it stands, transfers included) at one of its agencies."""
    if scope.everything:
        return true()
    steps = deadlines.alias("scope_steps")
    at_agency = exists().where(
        steps.c.dossier_id == dossiers.c.dossier_id, steps.c.scope == "step", steps.c.agency_code.in_(scope.agencies)
    )
    return or_(dossiers.c.receiving_unit.in_(scope.units), at_agency)


class DeadlineRepository:
    __slots__ = ("session",)

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------ the dossier and its due times

    async def state(self, dossier_id: UUID) -> str | None:
        return await (await driver_connection(self.session)).fetchval(STATE, dossier_id)

    async def add_dossier(self, values: Mapping[str, Any]) -> bool:
        return await insert_row(self.session, dossiers, values, "ON CONFLICT DO NOTHING RETURNING dossier_id") is not None

    async def add_deadline(self, values: Mapping[str, Any]) -> bool:
        return await insert_row(self.session, deadlines, values, "ON CONFLICT DO NOTHING RETURNING dossier_id") is not None

    async def lock_dossier(self, dossier_id: UUID) -> Row | None:
        row = await (await driver_connection(self.session)).fetchrow(LOCK_DOSSIER, dossier_id)
        return dict(row) if row is not None else None

    async def lock_deadline(self, dossier_id: UUID, scope: str, step_id: str) -> Row | None:
        row = await (await driver_connection(self.session)).fetchrow(LOCK_DEADLINE, dossier_id, scope, step_id)
        return dict(row) if row is not None else None

    async def lock_deadlines(self, dossier_id: UUID, states: Collection[str]) -> list[Row]:
        rows = await (await driver_connection(self.session)).fetch(LOCK_DEADLINES, dossier_id, list(states))
        return [dict(r) for r in rows]

    async def update_dossier(self, dossier_id: UUID, changes: Mapping[str, Any]) -> None:
        await update_row(self.session, dossiers, {"dossier_id": dossier_id}, changes)

    async def update_deadline(self, dossier_id: UUID, scope: str, step_id: str, changes: Mapping[str, Any]) -> None:
        await update_row(self.session, deadlines, {"dossier_id": dossier_id, "scope": scope, "step_id": step_id}, changes)

    async def transfer_step(self, dossier_id: UUID, step_id: str, agency_code: str, agency_name: str) -> None:
        await (await driver_connection(self.session)).execute(TRANSFER_STEP, dossier_id, step_id, agency_code, agency_name)

    async def cancel_deadlines(self, dossier_id: UUID, at: datetime) -> None:
        await (await driver_connection(self.session)).execute(CANCEL, dossier_id, at)

    # ------------------------------------------------------------ pauses

    async def add_pause(self, values: Mapping[str, Any]) -> None:
        await insert_row(self.session, pauses, values)

    async def open_pause(self, dossier_id: UUID) -> Row | None:
        row = await (await driver_connection(self.session)).fetchrow(OPEN_PAUSE, dossier_id)
        return dict(row) if row is not None else None

    async def end_pause(self, pause_id: int, resumed_at: datetime, new_appointment_at: datetime) -> None:
        await (await driver_connection(self.session)).execute(END_PAUSE, pause_id, resumed_at, new_appointment_at)

    async def end_open_pauses(self, dossier_id: UUID, at: datetime) -> None:
        await (await driver_connection(self.session)).execute(END_OPEN_PAUSES, dossier_id, at)

    # ------------------------------------------------------------ timers

    async def arm(self, timers_: Sequence[Mapping[str, Any]]) -> None:
        # as executemany: one cached statement for any number of timers, sent as one batch
        await insert_rows(self.session, timers, timers_, ARM)

    async def disarm(self, dossier_id: UUID, scope: str | None = None, step_id: str | None = None) -> None:
        connection = await driver_connection(self.session)
        if scope is None:
            await connection.execute(DISARM_DOSSIER, dossier_id)
        else:
            await connection.execute(DISARM, dossier_id, scope, step_id or "")

    async def claim_due_timers(self, now: datetime, limit: int) -> list[Row]:
        return [dict(r) for r in await (await driver_connection(self.session)).fetch(CLAIM_DUE, now, limit)]

    async def mark_overdue(self, keys: Sequence[tuple[UUID, str, str]], at: datetime) -> None:
        if keys:
            await (await driver_connection(self.session)).executemany(MARK_OVERDUE, [(*key, at) for key in keys])

    async def mark_fired(self, timer_ids: Sequence[int], at: datetime) -> None:
        await (await driver_connection(self.session)).execute(MARK_FIRED, list(timer_ids), at)

    async def steps(self, dossier_id: UUID) -> list[Row]:
        return [dict(r) for r in await (await driver_connection(self.session)).fetch(STEPS, dossier_id)]

    async def add_apology(self, values: Mapping[str, Any]) -> None:
        await insert_row(self.session, apologies, values)

    # ------------------------------------------------------------ reading

    async def get_dossier(self, dossier_id: UUID, scope: Scope) -> Row | None:
        query = select(dossiers).where(dossiers.c.dossier_id == dossier_id, in_scope(scope))
        row = (await self.session.execute(query)).mappings().first()
        return dict(row) if row is not None else None

    async def deadlines_of(self, dossier_id: UUID, scope: Scope) -> list[Row]:
        query = (
            select(deadlines)
            .join(dossiers, dossiers.c.dossier_id == deadlines.c.dossier_id)
            .where(deadlines.c.dossier_id == dossier_id, in_scope(scope))
            .order_by(deadlines.c.started_at, deadlines.c.step_id)
        )
        return [dict(r) for r in (await self.session.execute(query)).mappings().all()]

    async def pauses_of(self, dossier_id: UUID) -> list[Row]:
        query = select(pauses).where(pauses.c.dossier_id == dossier_id).order_by(pauses.c.id)
        return [dict(r) for r in (await self.session.execute(query)).mappings().all()]

    async def apologies_of(self, dossier_id: UUID) -> list[Row]:
        query = select(apologies).where(apologies.c.dossier_id == dossier_id).order_by(apologies.c.id)
        return [dict(r) for r in (await self.session.execute(query)).mappings().all()]

    async def on_time_report(
        self, period: Period, by: Dimension, units: Sequence[str] | None
    ) -> tuple[list[ReportRow], ReportRow]:
        return await report.on_time_report(self.session, period, by, units)

    async def items_of_row(
        self, period: Period, by: Dimension, key: str, lateness: Lateness, units: Sequence[str] | None, limit: int
    ) -> list[Row]:
        return await report.items_of_row(self.session, period, by, key, lateness, units, limit)

    async def on_time_series(self, period: Period, bucket: Bucket, units: Sequence[str] | None) -> list[dict[str, Any]]:
        return await report.on_time_series(self.session, period, bucket, units)
