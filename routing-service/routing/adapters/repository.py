"""All of routing's SQL: dossiers and their route steps, handovers (the control sheet), the outbound
queues (LGSP deliveries, national portal pushes) and their leased claims, the nonces of signed
requests, the audit log (appended and checked in `routing.adapters.audit`), and what staff and
operators read. One repository per session; what runs for every event or agency action goes to the
driver connection directly (`services.db`), the reads for the API through SQLAlchemy.

What a caller may see is decided here, in the queries (`services.identity.Scope`): an agency's
officer finds only the steps of their agencies, a counter officer or unit leader only the routes of
their units' dossiers (or of dossiers routed through their agencies); anything else is not found.

The applicant's name is sealed here on its way in and opened on its way out
(`routing.adapters.personal_data`): the use cases see it in clear, the tables never hold it so. A
portal push is stored without the name; it is put back into the record when the push is claimed."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, exists, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from routing.adapters import audit
from routing.adapters.personal_data import open_name, opened, seal_name
from routing.adapters.tables import audit_log, deliveries, dossiers, handovers, inbound_nonces, portal_pushes, route_steps
from routing.application.ports import AuditCheck, Queue
from routing.domain.steps import OPEN
from services.db import driver_connection, insert_row, insert_rows, update_row
from services.idempotency import Claims
from services.identity import EVERYTHING, Scope
from services.personal_data.keys import KeyRing
from services.work_queue import LeasedQueue

NONCES = Claims(inbound_nonces, ["client_id", "nonce"], created_column="seen_at", answers=False)

QUEUES: dict[Queue, LeasedQueue] = {
    "deliveries": LeasedQueue(deliveries, due="state = 'pending' AND next_attempt_at <= now()", order="id"),
    # A dossier's pushes go in order: one waits while an earlier push of its dossier is pending.
    "portal_pushes": LeasedQueue(
        portal_pushes,
        due=(
            "state = 'pending' AND next_attempt_at <= now() AND NOT EXISTS (SELECT 1 FROM routing.portal_pushes earlier "
            "WHERE earlier.dossier_id = portal_pushes.dossier_id AND earlier.state = 'pending' AND earlier.id < portal_pushes.id)"
        ),
        order="id",
    ),
}

LOCK_DOSSIER = "SELECT * FROM routing.dossiers WHERE dossier_id = $1 FOR UPDATE"
STEPS = "SELECT * FROM routing.route_steps WHERE dossier_id = $1 ORDER BY position"
LOCK_STEP = "SELECT * FROM routing.route_steps WHERE dossier_id = $1 AND step_id = $2 FOR UPDATE"
LOCK_AGENCYS_STEP = (
    "SELECT * FROM routing.route_steps WHERE dossier_id = $1 AND step_id = $2 AND agency_code = ANY($3::text[]) FOR UPDATE"
)
CANCELLABLE = sorted(OPEN | {"waiting"})
CANCEL_OPEN = (
    "UPDATE routing.route_steps SET state = 'cancelled', updated_at = $2 "
    "WHERE dossier_id = $1 AND state = ANY($3::text[]) AND step_id IS DISTINCT FROM $4"
)
DELIVERED = (
    "UPDATE routing.deliveries SET state = 'delivered', attempts = $2, delivered_at = $3, response = $4::jsonb, "
    "last_error = NULL WHERE id = $1"
)
PUSHED = "UPDATE routing.portal_pushes SET state = 'pushed', attempts = $2, pushed_at = $3, last_error = NULL WHERE id = $1"
ATTEMPT_FAILED = {
    queue: f"UPDATE routing.{queue} SET attempts = $2, last_error = $3, state = $4, next_attempt_at = $5 WHERE id = $1"
    for queue in QUEUES
}
POSTPONE = {queue: f"UPDATE routing.{queue} SET next_attempt_at = $2 WHERE id = $1" for queue in QUEUES}

_AGENCY_STEPS = select(route_steps, dossiers.c.dossier_code, dossiers.c.procedure_code, dossiers.c.procedure_name).join(
    dossiers, dossiers.c.dossier_id == route_steps.c.dossier_id
)


def _row(record: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(record) if record is not None else None


def _steps_in(scope: Scope) -> ColumnElement[bool]:
    """Steps of the scope's agencies."""
    return true() if scope.everything else route_steps.c.agency_code.in_(scope.agencies)


def _dossiers_in(scope: Scope) -> ColumnElement[bool]:
    """Dossiers received by the scope's units, or with a step at one of its agencies."""
    if scope.everything:
        return true()
    through = exists().where(route_steps.c.dossier_id == dossiers.c.dossier_id, route_steps.c.agency_code.in_(scope.agencies))
    return or_(dossiers.c.receiving_unit.in_(scope.units), through)


HOLDERS = "SELECT dossier_id, applicant_name FROM routing.dossiers WHERE dossier_id = ANY($1::uuid[])"


class RoutingRepository:
    def __init__(self, session: AsyncSession, keys: KeyRing) -> None:
        self.session = session
        self.keys = keys

    # ------------------------------------------------------------ a dossier's route

    async def add_dossier(self, values: Mapping[str, Any]) -> None:
        await insert_row(self.session, dossiers, {**values, "applicant_name": seal_name(self.keys, values.get("applicant_name"))})

    async def add_steps(self, rows: Sequence[Mapping[str, Any]]) -> None:
        await insert_rows(self.session, route_steps, rows)

    async def lock(self, dossier_id: UUID) -> dict[str, Any] | None:
        row = _row(await (await driver_connection(self.session)).fetchrow(LOCK_DOSSIER, dossier_id))
        return opened(self.keys, row) if row is not None else None

    async def steps(self, dossier_id: UUID) -> list[dict[str, Any]]:
        return [dict(r) for r in await (await driver_connection(self.session)).fetch(STEPS, dossier_id)]

    async def lock_step(self, dossier_id: UUID, step_id: str, scope: Scope = EVERYTHING) -> dict[str, Any] | None:
        driver = await driver_connection(self.session)
        if scope.everything:
            return _row(await driver.fetchrow(LOCK_STEP, dossier_id, step_id))
        return _row(await driver.fetchrow(LOCK_AGENCYS_STEP, dossier_id, step_id, list(scope.agencies)))

    async def update_dossier(self, dossier_id: UUID, changes: Mapping[str, Any]) -> None:
        await update_row(self.session, dossiers, {"dossier_id": dossier_id}, changes)

    async def update_step(self, dossier_id: UUID, step_id: str, changes: Mapping[str, Any]) -> None:
        await update_row(self.session, route_steps, {"dossier_id": dossier_id, "step_id": step_id}, changes)

    async def cancel_open_steps(self, dossier_id: UUID, at: datetime, *, except_step: str | None = None) -> None:
        await (await driver_connection(self.session)).execute(CANCEL_OPEN, dossier_id, at, CANCELLABLE, except_step)

    async def add_handover(self, values: Mapping[str, Any]) -> None:
        await insert_row(self.session, handovers, values)

    async def add_delivery(self, values: Mapping[str, Any]) -> None:
        await insert_row(self.session, deliveries, values)

    async def add_portal_push(self, values: Mapping[str, Any]) -> None:
        # The record is kept without the applicant's name (ChuHoSo): `claim` puts it back when it is sent.
        payload = {k: v for k, v in values["payload"].items() if k != "ChuHoSo"}
        await insert_row(self.session, portal_pushes, {**values, "payload": payload})

    async def audit(self, kind: str, actor: str, *, dossier_id: Any = None, step_id: str | None = None, **detail: Any) -> None:
        await audit.append(self.session, kind, actor, dossier_id=dossier_id, step_id=step_id, **detail)

    async def claim_nonce(self, client_id: str, nonce: str) -> None:
        await NONCES.claim(self.session, (client_id, nonce))

    # ------------------------------------------------------------ reading

    async def dossier(self, dossier_id: UUID, scope: Scope) -> dict[str, Any] | None:
        query = select(dossiers).where(dossiers.c.dossier_id == dossier_id, _dossiers_in(scope))
        row = _row((await self.session.execute(query)).mappings().first())
        return opened(self.keys, row) if row is not None else None

    async def handovers(self, dossier_id: UUID) -> list[dict[str, Any]]:
        query = select(handovers).where(handovers.c.dossier_id == dossier_id).order_by(handovers.c.id)
        return [dict(r) for r in (await self.session.execute(query)).mappings().all()]

    async def agency_steps(
        self,
        scope: Scope,
        states: Sequence[str],
        *,
        agency_code: str | None,
        procedure_code: str | None,
        dossier_code: str | None,
    ) -> list[dict[str, Any]]:
        query = _AGENCY_STEPS.where(_steps_in(scope), route_steps.c.state.in_(states))
        if agency_code:
            query = query.where(route_steps.c.agency_code == agency_code)
        if procedure_code:
            query = query.where(dossiers.c.procedure_code == procedure_code)
        if dossier_code:
            query = query.where(dossiers.c.dossier_code == dossier_code)
        query = query.order_by(route_steps.c.assigned_at, route_steps.c.dossier_id)
        return [dict(r) for r in (await self.session.execute(query)).mappings().all()]

    async def agency_step(self, dossier_id: UUID, step_id: str, scope: Scope) -> dict[str, Any] | None:
        query = _AGENCY_STEPS.where(route_steps.c.dossier_id == dossier_id, route_steps.c.step_id == step_id, _steps_in(scope))
        return _row((await self.session.execute(query)).mappings().first())

    async def deliveries(self, *, state: str | None, undelivered: bool, limit: int) -> list[dict[str, Any]]:
        query = select(deliveries).order_by(deliveries.c.id)
        if undelivered:
            query = query.where(deliveries.c.state != "delivered")
        elif state:
            query = query.where(deliveries.c.state == state)
        return [dict(r) for r in (await self.session.execute(query.limit(limit))).mappings().all()]

    async def portal_pushes(self, *, state: str | None, dossier_id: UUID | None, limit: int) -> list[dict[str, Any]]:
        query = select(portal_pushes).order_by(portal_pushes.c.id)
        if state:
            query = query.where(portal_pushes.c.state == state)
        if dossier_id:
            query = query.where(portal_pushes.c.dossier_id == dossier_id)
        return [dict(r) for r in (await self.session.execute(query.limit(limit))).mappings().all()]

    async def audit_records(self, *, dossier_id: UUID | None, after_id: int, limit: int) -> list[dict[str, Any]]:
        query = select(audit_log).where(audit_log.c.id > after_id).order_by(audit_log.c.id).limit(limit)
        if dossier_id:
            query = query.where(audit_log.c.entry["dossier_id"].astext == str(dossier_id))
        return [dict(r) for r in (await self.session.execute(query)).mappings().all()]

    async def verify_audit(self) -> AuditCheck:
        return await audit.verify(self.session)

    # ------------------------------------------------------------ the outbound queues

    async def claim(self, queue: Queue, limit: int, lease_seconds: float) -> list[dict[str, Any]]:
        rows = [dict(r) for r in await QUEUES[queue].claim(self.session, limit, lease_seconds)]
        if queue == "portal_pushes" and rows:
            found = await (await driver_connection(self.session)).fetch(HOLDERS, list({r["dossier_id"] for r in rows}))
            names = {r["dossier_id"]: open_name(self.keys, r["applicant_name"]) for r in found}
            for row in rows:  # the portal's record names the dossier's holder (ChuHoSo); '' once erased
                row["payload"] = {**row["payload"], "ChuHoSo": names.get(row["dossier_id"]) or ""}
        return rows

    async def delivered(self, delivery_id: int, *, attempts: int, answer: Mapping[str, Any], at: datetime) -> None:
        answer_json = json.dumps(answer, ensure_ascii=False)
        await (await driver_connection(self.session)).execute(DELIVERED, delivery_id, attempts, at, answer_json)

    async def pushed(self, push_id: int, *, attempts: int, at: datetime) -> None:
        await (await driver_connection(self.session)).execute(PUSHED, push_id, attempts, at)

    async def attempt_failed(
        self, queue: Queue, row_id: int, *, attempts: int, error: str, gave_up: bool, retry_at: datetime
    ) -> None:
        state = "failed" if gave_up else "pending"
        await (await driver_connection(self.session)).execute(ATTEMPT_FAILED[queue], row_id, attempts, error, state, retry_at)

    async def postpone(self, queue: Queue, row_id: int, until: datetime) -> None:
        await (await driver_connection(self.session)).execute(POSTPONE[queue], row_id, until)

    async def resend(self, delivery_id: int, at: datetime) -> dict[str, Any] | None:
        query = (
            update(deliveries)
            .where(deliveries.c.id == delivery_id, deliveries.c.state != "delivered")
            .values(state="pending", attempts=0, next_attempt_at=at)
            .returning(*deliveries.c)
        )
        return _row((await self.session.execute(query)).mappings().first())

    async def delivery(self, delivery_id: int) -> dict[str, Any] | None:
        row = (await self.session.execute(select(deliveries).where(deliveries.c.id == delivery_id))).mappings().first()
        return _row(row)

    async def reconcile_candidates(self, since: datetime) -> list[dict[str, Any]]:
        pending = exists().where(portal_pushes.c.dossier_id == dossiers.c.dossier_id, portal_pushes.c.state == "pending")
        query = select(dossiers).where(dossiers.c.updated_at >= since, ~pending)
        return [opened(self.keys, dict(r)) for r in (await self.session.execute(query)).mappings().all()]

    async def purge_nonces(self, before: datetime) -> int:
        return await NONCES.purge(self.session, before)
