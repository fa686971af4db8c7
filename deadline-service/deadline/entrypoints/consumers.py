"""Deadline's consumer: intake's and routing's events about each dossier, one named handler per
event type (`deadline.application.events`, where the order between the two topics is kept); and
the citizen's export and erasure requests, answered with what deadline holds (nothing)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deadline.adapters.personal_data import DeadlineHolder
from deadline.application.events import HANDLERS
from services.events.topics import CONSUMES
from services.messaging import Subscription
from services.personal_data.requests import personal_data_subscription

if TYPE_CHECKING:
    from deadline.service import Deadline


def subscriptions(deadline: Deadline) -> list[Subscription[Any]]:
    return [
        Subscription(name="tracker", sources=CONSUMES["deadline"], handlers=HANDLERS, bind=deadline.bind_events),
        personal_data_subscription(
            service="deadline", schema="deadline", keys=deadline.keys, outbox=deadline.outbox, holder=DeadlineHolder()
        ),
    ]
