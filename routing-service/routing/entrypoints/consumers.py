"""Routing reacts to intake: a received dossier gets its route; a supplement handed in resumes the
step that asked; a withdrawal or a counter refusal stops open steps; a returned result is status 10."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from routing.handling import Routing
from services.events import Envelope
from services.events.schemas import DossierReceived, DossierRefused, DossierWithdrawn, ResultReturned, SupplementReceived
from services.messaging import Subscription
from services.runtime import Runtime


def subscriptions(runtime: Runtime) -> list[Subscription]:
    routing = Routing(runtime)

    async def on_received(session: AsyncSession, envelope: Envelope) -> None:
        await routing.fix_route(session, envelope)

    async def on_supplement_received(session: AsyncSession, envelope: Envelope) -> None:
        await routing.supplement_received(session, envelope)

    async def on_withdrawn(session: AsyncSession, envelope: Envelope) -> None:
        await routing.close(session, envelope, "withdrawn")

    async def on_refused(session: AsyncSession, envelope: Envelope) -> None:
        await routing.close(session, envelope, "refused")

    async def on_result_returned(session: AsyncSession, envelope: Envelope) -> None:
        await routing.result_returned(session, envelope)

    return [
        Subscription(
            name="routes",
            sources=("intake",),
            handlers={
                DossierReceived.event_type: on_received,
                SupplementReceived.event_type: on_supplement_received,
                DossierWithdrawn.event_type: on_withdrawn,
                DossierRefused.event_type: on_refused,
                ResultReturned.event_type: on_result_returned,
            },
        )
    ]
