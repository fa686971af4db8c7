"""Intake's consumer: routing's, deadline's and notify's events, each applied to the dossier's
citizen-facing status and timeline; and their answers to a citizen's personal-data request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from intake.application.personal_data import record_answer
from intake.application.ports import IntakeWork
from intake.application.timeline import record_event
from intake.domain.timeline import EVENT_TYPES
from services.events import Envelope
from services.events.schemas import PersonalDataAnswered
from services.events.topics import CONSUMES
from services.messaging import Subscription

if TYPE_CHECKING:
    from intake.service import Intake


async def on_event(work: IntakeWork, envelope: Envelope) -> None:
    await record_event(work, envelope)


def subscriptions(intake: Intake) -> list[Subscription[IntakeWork]]:
    return [
        Subscription(
            name="timeline",
            sources=CONSUMES["intake"],
            handlers={**{t: on_event for t in EVENT_TYPES}, PersonalDataAnswered.event_type: record_answer},
            bind=intake.uow.bind,
        )
    ]
