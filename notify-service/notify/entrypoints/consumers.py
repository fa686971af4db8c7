"""Notify's consumer: intake's, routing's and deadline's events, each turned into pending notices
for the citizen or the agency's staff (see `notify.application.notices`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from notify.application.notices import (
    CITIZEN_EVENTS,
    STAFF_ALERTS,
    alert_staff,
    notify_citizen,
    notify_supplement_request,
    remember_contact,
)
from notify.application.ports import Handling
from services.events import Envelope
from services.events.schemas import DossierReceived, SupplementRequested
from services.events.topics import CONSUMES
from services.messaging import Handler, Subscription

if TYPE_CHECKING:
    from notify.service import Notify


async def on_received(handling: Handling, envelope: Envelope) -> None:
    await remember_contact(handling.work, handling.drafting, envelope)


async def on_supplement_requested(handling: Handling, envelope: Envelope) -> None:
    await notify_supplement_request(handling.work, handling.drafting, envelope)


async def on_citizen_event(handling: Handling, envelope: Envelope) -> None:
    await notify_citizen(handling.work, handling.drafting, envelope)


async def on_deadline_alert(handling: Handling, envelope: Envelope) -> None:
    await alert_staff(handling.work, handling.drafting, envelope)


HANDLERS: dict[str, Handler[Handling]] = {
    DossierReceived.event_type: on_received,
    SupplementRequested.event_type: on_supplement_requested,
    **{event_type: on_citizen_event for event_type in CITIZEN_EVENTS},
    **{event_type: on_deadline_alert for event_type in STAFF_ALERTS},
}


def subscriptions(notify: Notify) -> list[Subscription[Handling]]:
    return [Subscription(name="notices", sources=CONSUMES["notify"], handlers=HANDLERS, bind=notify.handling)]
