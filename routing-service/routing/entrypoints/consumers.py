"""Routing reacts to a received dossier by fixing its route and assigning the first steps."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from routing.adapters.tables import handovers, route_steps
from routing.domain.route import StepState, ready_steps
from services.events import Envelope, parse
from services.events.schemas import DossierReceived, StepAssigned
from services.messaging import Subscription
from services.runtime import Runtime


def subscriptions(runtime: Runtime) -> list[Subscription]:
    async def on_dossier_received(session: AsyncSession, envelope: Envelope) -> None:
        event = parse(envelope, DossierReceived)
        dossier_id = UUID(envelope.dossier_id)
        await session.execute(
            insert(route_steps),
            [
                {
                    "dossier_id": dossier_id,
                    "step_id": step.step_id,
                    "position": position,
                    "agency_code": step.agency_code,
                    "agency_name": step.agency_name,
                    "budget_hours": step.budget_hours,
                    "after": step.after,
                    "state": "waiting",
                }
                for position, step in enumerate(event.route)
            ],
        )
        await assign_ready_steps(session, dossier_id, envelope, from_party=f"Bộ phận một cửa {event.receiving_unit}")

    async def assign_ready_steps(session: AsyncSession, dossier_id: UUID, cause: Envelope, from_party: str) -> None:
        rows = (
            await session.execute(select(route_steps).where(route_steps.c.dossier_id == dossier_id).order_by(route_steps.c.position))
        ).mappings().all()
        ready = set(ready_steps(StepState(r["step_id"], tuple(r["after"]), r["state"]) for r in rows))
        for row in rows:
            if row["step_id"] not in ready:
                continue
            at = cause.occurred_at
            await session.execute(
                update(route_steps)
                .where(route_steps.c.dossier_id == dossier_id, route_steps.c.step_id == row["step_id"])
                .values(state="assigned", assigned_at=at)
            )
            await session.execute(
                insert(handovers).values(
                    dossier_id=dossier_id, step_id=row["step_id"], from_party=from_party, to_party=row["agency_name"], at=at, actor="routing-service", action="assign"
                )
            )
            await runtime.outbox.emit(
                session,
                StepAssigned(step_id=row["step_id"], agency_code=row["agency_code"], agency_name=row["agency_name"], budget_hours=row["budget_hours"], assigned_at=at),
                dossier_id=str(dossier_id),
                causation=cause,
            )

    return [Subscription(name="routes", sources=("intake",), handlers={DossierReceived.event_type: on_dossier_received})]
