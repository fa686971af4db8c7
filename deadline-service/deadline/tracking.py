"""What each event does to the tracked due times, inside the consumer's transaction: start,
pause, resume, close and end tracking; arm the timers that fire warnings and overdue."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from deadline.adapters.tables import deadlines, dossiers, parked_events, pauses, timers
from deadline.domain.clock import Threshold, classify, remaining_hours, resumed_due, timer_plan
from services.calendar import WorkingCalendar
from services.db import driver_connection, insert_row, insert_rows
from services.events import Envelope
from services.events.schemas import ClockPaused, ClockResumed, DeadlineClosed, DeadlineTracked, DossierReceived
from services.messaging import Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tracker:
    calendar: WorkingCalendar
    thresholds: tuple[Threshold, ...]
    outbox: Outbox

    # ------------------------------------------------------------------ timers

    async def arm(
        self,
        session: AsyncSession,
        dossier_id: UUID,
        scope: str,
        step_id: str,
        started_at: datetime,
        due_at: datetime,
        budget_hours: float,
    ) -> None:
        rows = [
            {"dossier_id": dossier_id, "scope": scope, "step_id": step_id, "kind": kind, "due_at": due_at, "fire_at": fire_at}
            for kind, fire_at in timer_plan(self.calendar, self.thresholds, started_at, due_at, budget_hours)
        ]
        if rows:  # as executemany: one cached statement for any number of timers, sent as one multi-row INSERT
            await insert_rows(session, timers, rows, "ON CONFLICT ON CONSTRAINT uq_timer_once_per_due_time DO NOTHING")

    async def disarm(self, session: AsyncSession, dossier_id: UUID, scope: str | None = None, step_id: str | None = None) -> None:
        """Drop the timers not fired yet (the fired ones stay: they prove what was sent)."""
        where = [timers.c.dossier_id == dossier_id, timers.c.fire_at.is_not(None)]
        if scope is not None:
            where += [timers.c.scope == scope, timers.c.step_id == (step_id or "")]
        await session.execute(delete(timers).where(*where))

    # ------------------------------------------------------------------ start

    async def track_dossier(self, session: AsyncSession, cause: Envelope, event: DossierReceived) -> None:
        dossier_id = UUID(cause.dossier_id)
        inserted = await insert_row(
            session,
            dossiers,
            dict(
                dossier_id=dossier_id,
                dossier_code=event.dossier_code,
                procedure_code=event.procedure_code,
                procedure_name=event.procedure_name,
                field_code=event.field_code,
                channel=event.channel,
                fully_online=event.fully_online,
                receiving_unit=event.receiving_unit,
                received_at=event.received_at,
                budget_hours=event.budget_hours,
                resume_rule=event.resume_rule,
                route=[step.model_dump(mode="json") for step in event.route],
                state="running",
                due_at=event.appointment_at,
                appointment_at=event.appointment_at,
            ),
            "ON CONFLICT DO NOTHING RETURNING dossier_id",
        )
        if inserted is None:
            return
        await self.track(
            session,
            cause,
            scope="dossier",
            step_id="",
            agency_code=None,
            agency_name=None,
            started_at=event.clock_starts_at,
            due_at=event.appointment_at,
            budget_hours=event.budget_hours,
        )

    async def track(
        self,
        session: AsyncSession,
        cause: Envelope,
        *,
        scope: str,
        step_id: str,
        agency_code: str | None,
        agency_name: str | None,
        started_at: datetime,
        due_at: datetime,
        budget_hours: float,
    ) -> bool:
        dossier_id = UUID(cause.dossier_id)
        inserted = await insert_row(
            session,
            deadlines,
            dict(
                dossier_id=dossier_id,
                scope=scope,
                step_id=step_id,
                agency_code=agency_code,
                agency_name=agency_name,
                started_at=started_at,
                due_at=due_at,
                budget_hours=budget_hours,
                state="open",
            ),
            "ON CONFLICT DO NOTHING RETURNING dossier_id",
        )
        if inserted is None:
            return False
        await self.arm(session, dossier_id, scope, step_id, started_at, due_at, budget_hours)
        await self.outbox.emit(
            session,
            DeadlineTracked(
                scope=scope,
                step_id=step_id or None,
                agency_code=agency_code,
                started_at=started_at,
                due_at=due_at,
                budget_hours=budget_hours,
            ),  # type: ignore[arg-type]
            dossier_id=cause.dossier_id,
            causation=cause,
        )
        return True

    # ------------------------------------------------------------------ close

    async def close_step(self, session: AsyncSession, cause: Envelope, step_id: str, completed_at: datetime) -> None:
        row = await self._deadline(session, UUID(cause.dossier_id), "step", step_id)
        if row is None or row["state"] not in ("open", "paused"):
            return
        await self._close(session, cause, row, completed_at)

    async def close_dossier(self, session: AsyncSession, cause: Envelope, completed_at: datetime) -> None:
        dossier_id = UUID(cause.dossier_id)
        dossier = await self._dossier(session, dossier_id)
        if dossier is None or dossier["state"] not in ("running", "paused"):
            return
        open_rows = (
            (
                await session.execute(
                    select(deadlines)
                    .where(deadlines.c.dossier_id == dossier_id, deadlines.c.state.in_(("open", "paused")))
                    .with_for_update()
                )
            )
            .mappings()
            .all()
        )
        outcome = classify(completed_at, dossier["due_at"])
        for row in sorted(open_rows, key=lambda r: r["scope"] != "step"):  # steps first, the dossier last
            await self._close(session, cause, row, completed_at)
        await session.execute(
            update(dossiers)
            .where(dossiers.c.dossier_id == dossier_id)
            .values(state="resolved", ended_at=completed_at, outcome=outcome, paused_status=None)
        )
        await self._end_open_pause(session, dossier_id, completed_at)

    async def _close(self, session: AsyncSession, cause: Envelope, row: Any, completed_at: datetime) -> None:
        outcome = classify(completed_at, row["due_at"])
        dossier_id = row["dossier_id"]
        await session.execute(
            update(deadlines)
            .where(deadlines.c.dossier_id == dossier_id, deadlines.c.scope == row["scope"], deadlines.c.step_id == row["step_id"])
            .values(state="closed", completed_at=completed_at, outcome=outcome, remaining_hours=None)
        )
        await self.disarm(session, dossier_id, row["scope"], row["step_id"])
        await self.outbox.emit(
            session,
            DeadlineClosed(
                scope=row["scope"],
                step_id=row["step_id"] or None,
                agency_code=row["agency_code"],
                due_at=row["due_at"],
                completed_at=completed_at,
                outcome=outcome,
            ),
            dossier_id=str(dossier_id),
            causation=cause,
        )

    async def transfer_step(
        self, session: AsyncSession, cause: Envelope, step_id: str, agency_code: str, agency_name: str
    ) -> None:
        """Chuyển hồ sơ đến cơ quan có thẩm quyền: the step's time runs on, now at another agency."""
        await session.execute(
            update(deadlines)
            .where(
                deadlines.c.dossier_id == UUID(cause.dossier_id),
                deadlines.c.scope == "step",
                deadlines.c.step_id == step_id,
                deadlines.c.state.in_(("open", "paused")),
            )
            .values(agency_code=agency_code, agency_name=agency_name)
        )

    async def end(self, session: AsyncSession, cause: Envelope, kind: str, at: datetime) -> None:
        """Refused (status 3) or withdrawn (status 7): tracking ends, nothing is classed."""
        dossier_id = UUID(cause.dossier_id)
        dossier = await self._dossier(session, dossier_id)
        if dossier is None or dossier["state"] not in ("running", "paused"):
            return
        await session.execute(
            update(deadlines)
            .where(deadlines.c.dossier_id == dossier_id, deadlines.c.state.in_(("open", "paused")))
            .values(state="cancelled", completed_at=at)
        )
        await self.disarm(session, dossier_id)
        await session.execute(
            update(dossiers).where(dossiers.c.dossier_id == dossier_id).values(state=kind, ended_at=at, paused_status=None)
        )
        await self._end_open_pause(session, dossier_id, at)

    # ------------------------------------------------------------------ pause and resume

    async def pause(
        self, session: AsyncSession, cause: Envelope, status: int, at: datetime, requested_by: str | None, step_id: str | None
    ) -> None:
        """Statuses 5, 6, 8 stop the clock of the dossier and of its open steps."""
        dossier_id = UUID(cause.dossier_id)
        dossier = await self._dossier(session, dossier_id)
        if dossier is None:
            log.info("pause for an untracked dossier %s ignored", dossier_id)
            return
        if dossier["state"] != "running":
            return
        rows = (
            (
                await session.execute(
                    select(deadlines).where(deadlines.c.dossier_id == dossier_id, deadlines.c.state == "open").with_for_update()
                )
            )
            .mappings()
            .all()
        )
        for row in rows:
            await session.execute(
                update(deadlines)
                .where(
                    deadlines.c.dossier_id == dossier_id, deadlines.c.scope == row["scope"], deadlines.c.step_id == row["step_id"]
                )
                .values(state="paused", remaining_hours=remaining_hours(self.calendar, at, row["started_at"], row["due_at"]))
            )
        await self.disarm(session, dossier_id)
        await session.execute(
            insert(pauses).values(
                dossier_id=dossier_id,
                status=status,
                requested_by=requested_by,
                step_id=step_id,
                paused_at=at,
                old_appointment_at=dossier["appointment_at"],
                appointment_remaining_hours=remaining_hours(self.calendar, at, dossier["received_at"], dossier["appointment_at"]),
            )
        )
        await session.execute(
            update(dossiers).where(dossiers.c.dossier_id == dossier_id).values(state="paused", paused_status=status)
        )
        await self.outbox.emit(
            session,
            ClockPaused(status=status, paused_at=at, appointment_at=dossier["appointment_at"]),  # type: ignore[arg-type]
            dossier_id=cause.dossier_id,
            causation=cause,
        )

    async def resume(self, session: AsyncSession, cause: Envelope, at: datetime) -> None:
        dossier_id = UUID(cause.dossier_id)
        dossier = await self._dossier(session, dossier_id)
        if dossier is None or dossier["state"] != "paused":
            return
        rule = dossier["resume_rule"]
        rows = (
            (
                await session.execute(
                    select(deadlines).where(deadlines.c.dossier_id == dossier_id, deadlines.c.state == "paused").with_for_update()
                )
            )
            .mappings()
            .all()
        )
        new_dossier_due = dossier["due_at"]
        for row in rows:
            restart, due = resumed_due(self.calendar, rule, at, row["remaining_hours"] or 0.0, row["budget_hours"])
            started = restart if rule == "restart" else row["started_at"]
            await session.execute(
                update(deadlines)
                .where(
                    deadlines.c.dossier_id == dossier_id, deadlines.c.scope == row["scope"], deadlines.c.step_id == row["step_id"]
                )
                .values(state="open", due_at=due, started_at=started, remaining_hours=None)
            )
            if row["overdue_at"] is None:
                await self.arm(session, dossier_id, row["scope"], row["step_id"], restart, due, row["budget_hours"])
            if row["scope"] == "dossier":
                new_dossier_due = due
        pause = (
            (
                await session.execute(
                    select(pauses)
                    .where(pauses.c.dossier_id == dossier_id, pauses.c.resumed_at.is_(None))
                    .order_by(pauses.c.id.desc())
                    .limit(1)
                )
            )
            .mappings()
            .first()
        )
        old_appointment = dossier["appointment_at"]
        if pause is not None:
            _, new_appointment = resumed_due(
                self.calendar, rule, at, pause["appointment_remaining_hours"], dossier["budget_hours"]
            )
            await session.execute(
                update(pauses).where(pauses.c.id == pause["id"]).values(resumed_at=at, new_appointment_at=new_appointment)
            )
        else:
            new_appointment = new_dossier_due
        await session.execute(
            update(dossiers)
            .where(dossiers.c.dossier_id == dossier_id)
            .values(state="running", paused_status=None, due_at=new_dossier_due, appointment_at=new_appointment)
        )
        await self.outbox.emit(
            session,
            ClockResumed(resumed_at=at, rule=rule, old_appointment_at=old_appointment, new_appointment_at=new_appointment),
            dossier_id=cause.dossier_id,
            causation=cause,
        )

    # ------------------------------------------------------------------ before the receipt

    async def hold(self, session: AsyncSession, dossier_id: str) -> None:
        """Serialise, per dossier, parking against the receipt that unparks (replicas may read
        the two topics' partitions in parallel); released when the transaction ends."""
        await (await driver_connection(session)).execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"deadline:{dossier_id}"
        )

    async def state(self, session: AsyncSession, dossier_id: str) -> str | None:
        """running, paused, resolved, refused, withdrawn; None before the receipt."""
        return await (await driver_connection(session)).fetchval(
            "SELECT state FROM deadline.dossiers WHERE dossier_id = $1", UUID(dossier_id)
        )

    async def awaiting_supplement(self, session: AsyncSession, dossier_id: str) -> Any:
        """The open pause of a dossier waiting for the citizen's supplement an agency asked for
        (status 5), if it is."""
        return (
            (
                await session.execute(
                    select(pauses)
                    .join(dossiers, dossiers.c.dossier_id == pauses.c.dossier_id)
                    .where(
                        pauses.c.dossier_id == UUID(dossier_id),
                        pauses.c.resumed_at.is_(None),
                        dossiers.c.state == "paused",
                        dossiers.c.paused_status == 5,
                        pauses.c.requested_by != "counter",
                    )
                    .order_by(pauses.c.id.desc())
                    .limit(1)
                )
            )
            .mappings()
            .first()
        )

    async def tracked(self, session: AsyncSession, dossier_id: str) -> bool:
        return await self.state(session, dossier_id) is not None

    async def park(self, session: AsyncSession, envelope: Envelope) -> None:
        log.info("event %s about dossier %s waits for its receipt", envelope.type, envelope.dossier_id)
        await insert_row(
            session, parked_events, {"dossier_id": UUID(envelope.dossier_id), "envelope": envelope.model_dump(mode="json")}
        )

    async def unpark(self, session: AsyncSession, dossier_id: str) -> list[Envelope]:
        """The events parked for this dossier, in the order they were read; removed."""
        rows = await (await driver_connection(session)).fetch(
            "DELETE FROM deadline.parked_events WHERE dossier_id = $1 RETURNING id, envelope", UUID(dossier_id)
        )
        return [Envelope.model_validate(raw) for _, raw in sorted(rows, key=lambda r: r[0])]

    # ------------------------------------------------------------------ reads

    async def _dossier(self, session: AsyncSession, dossier_id: UUID) -> Any:
        return (
            (await session.execute(select(dossiers).where(dossiers.c.dossier_id == dossier_id).with_for_update()))
            .mappings()
            .first()
        )

    async def _deadline(self, session: AsyncSession, dossier_id: UUID, scope: str, step_id: str) -> Any:
        return (
            (
                await session.execute(
                    select(deadlines)
                    .where(and_(deadlines.c.dossier_id == dossier_id, deadlines.c.scope == scope, deadlines.c.step_id == step_id))
                    .with_for_update()
                )
            )
            .mappings()
            .first()
        )

    async def _end_open_pause(self, session: AsyncSession, dossier_id: UUID, at: datetime) -> None:
        await session.execute(
            update(pauses).where(pauses.c.dossier_id == dossier_id, pauses.c.resumed_at.is_(None)).values(resumed_at=at)
        )
