"""Routing reacts to intake: a received dossier gets its route; a supplement handed in resumes the
step that asked; a withdrawal or a counter refusal stops open steps; a returned result is status 10."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from routing.application import routes
from routing.application.ports import RoutingWork
from services.events import Envelope
from services.events.schemas import DossierReceived, DossierRefused, DossierWithdrawn, ResultReturned, SupplementReceived
from services.events.topics import CONSUMES
from services.messaging import Subscription
from services.personal_data.requests import personal_data_subscription

if TYPE_CHECKING:
    from routing.service import Routing


async def on_received(work: RoutingWork, envelope: Envelope) -> None:
    await routes.fix_route(work, envelope)


async def on_supplement_received(work: RoutingWork, envelope: Envelope) -> None:
    await routes.supplement_received(work, envelope)


async def on_closed(work: RoutingWork, envelope: Envelope) -> None:
    await routes.close_route(work, envelope)


async def on_result_returned(work: RoutingWork, envelope: Envelope) -> None:
    await routes.result_returned(work, envelope)


def subscriptions(routing: Routing) -> list[Subscription[Any]]:
    """The route's events, and the citizen's export and erasure requests (what routing holds: the applicant's name)."""
    return [
        Subscription(
            name="routes",
            sources=CONSUMES["routing"],
            handlers={
                DossierReceived.event_type: on_received,
                SupplementReceived.event_type: on_supplement_received,
                DossierWithdrawn.event_type: on_closed,
                DossierRefused.event_type: on_closed,
                ResultReturned.event_type: on_result_returned,
            },
            bind=routing.uow.bind,
        ),
        personal_data_subscription(
            service="routing", schema="routing", keys=routing.keys, outbox=routing.outbox, holder=routing.holder
        ),
    ]
