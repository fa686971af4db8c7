"""Notify's consumers: intake's (with its private contacts stream), routing's and deadline's events,
each turned into pending notices for the citizen or the agency's staff (see
`notify.application.notices`); and intake's `personal_data.requested`, notify's part of a
citizen's export or erasure (`notify.adapters.personal_data`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from notify.application.notices import (
    CITIZEN_EVENTS,
    STAFF_ALERTS,
    alert_staff,
    note_end,
    notify_citizen,
    notify_supplement_request,
    remember_contact,
    remember_receipt,
)
from notify.application.ports import Handling
from services.events import Envelope
from services.events.schemas import ContactGiven, DossierReceived, DossierWithdrawn, SupplementRequested
from services.events.topics import CONSUMES
from services.messaging import Handler, Subscription
from services.personal_data.requests import personal_data_subscription

if TYPE_CHECKING:
    from notify.service import Notify


async def on_received(handling: Handling, envelope: Envelope) -> None:
    await remember_receipt(handling.work, handling.drafting, envelope)


async def on_contact_given(handling: Handling, envelope: Envelope) -> None:
    await remember_contact(handling.work, handling.drafting, envelope, handling.contact_keys)


async def on_withdrawn(handling: Handling, envelope: Envelope) -> None:
    await note_end(handling.work, handling.drafting, envelope)


async def on_supplement_requested(handling: Handling, envelope: Envelope) -> None:
    await notify_supplement_request(handling.work, handling.drafting, envelope)


async def on_citizen_event(handling: Handling, envelope: Envelope) -> None:
    await notify_citizen(handling.work, handling.drafting, envelope)


async def on_deadline_alert(handling: Handling, envelope: Envelope) -> None:
    await alert_staff(handling.work, handling.drafting, envelope)


HANDLERS: dict[str, Handler[Handling]] = {
    DossierReceived.event_type: on_received,
    ContactGiven.event_type: on_contact_given,
    DossierWithdrawn.event_type: on_withdrawn,
    SupplementRequested.event_type: on_supplement_requested,
    **{event_type: on_citizen_event for event_type in CITIZEN_EVENTS},
    **{event_type: on_deadline_alert for event_type in STAFF_ALERTS},
}


def subscriptions(notify: Notify) -> list[Subscription[Any]]:
    personal_data = personal_data_subscription(
        service="notify", schema="notify", keys=notify.keys, outbox=notify.outbox, holder=notify.holder
    )
    return [Subscription(name="notices", sources=CONSUMES["notify"], handlers=HANDLERS, bind=notify.handling), personal_data]
