"""Deadline's consumer: intake's and routing's events about each dossier, one named handler per
event type (`deadline.application.events`, where the order between the two topics is kept)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deadline.application.events import HANDLERS
from deadline.application.ports import EventWork
from services.events.topics import CONSUMES
from services.messaging import Subscription

if TYPE_CHECKING:
    from deadline.service import Deadline


def subscriptions(deadline: Deadline) -> list[Subscription[EventWork]]:
    return [Subscription(name="tracker", sources=CONSUMES["deadline"], handlers=HANDLERS, bind=deadline.bind_events)]
