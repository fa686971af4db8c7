"""Deadline starts tracking the dossier's appointment and each assigned step's due time."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from deadline.adapters.tables import deadlines
from services.calendar import WorkingCalendar
from services.events import Envelope, parse
from services.events.schemas import DeadlineTracked, DossierReceived, StepAssigned
from services.messaging import Subscription
from services.runtime import Runtime

calendar = WorkingCalendar()


def subscriptions(runtime: Runtime) -> list[Subscription]:
    async def track(
        session: AsyncSession, cause: Envelope, *, scope: str, step_id: str | None, agency_code: str | None, started_at: datetime, due_at: datetime, budget_hours: float
    ) -> None:
        inserted = (
            await session.execute(
                insert(deadlines)
                .values(
                    dossier_id=UUID(cause.dossier_id),
                    scope=scope,
                    step_id=step_id or "",
                    agency_code=agency_code,
                    started_at=started_at,
                    due_at=due_at,
                    budget_hours=budget_hours,
                    state="open",
                )
                .on_conflict_do_nothing()
                .returning(deadlines.c.dossier_id)
            )
        ).first()
        if inserted is None:
            return
        await runtime.outbox.emit(
            session,
            DeadlineTracked(scope=scope, step_id=step_id, agency_code=agency_code, started_at=started_at, due_at=due_at, budget_hours=budget_hours),  # type: ignore[arg-type]
            dossier_id=cause.dossier_id,
            causation=cause,
        )

    async def on_dossier_received(session: AsyncSession, envelope: Envelope) -> None:
        event = parse(envelope, DossierReceived)
        await track(
            session, envelope, scope="dossier", step_id=None, agency_code=None,
            started_at=event.clock_starts_at, due_at=event.appointment_at, budget_hours=event.budget_hours,
        )

    async def on_step_assigned(session: AsyncSession, envelope: Envelope) -> None:
        event = parse(envelope, StepAssigned)
        started = calendar.clock_start(event.assigned_at)
        await track(
            session, envelope, scope="step", step_id=event.step_id, agency_code=event.agency_code,
            started_at=started, due_at=calendar.add_working_hours(started, event.budget_hours), budget_hours=event.budget_hours,
        )

    return [
        Subscription(
            name="tracker",
            sources=("intake", "routing"),
            handlers={DossierReceived.event_type: on_dossier_received, StepAssigned.event_type: on_step_assigned},
        )
    ]
