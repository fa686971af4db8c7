"""Notify turns events into pending notices; the dispatcher sends them (see dispatcher.py).

Recording the notice (unique per dossier, event, channel and recipient) happens in the same
transaction as the inbox entry, so however often Kafka redelivers the event there is one notice."""

from __future__ import annotations

from uuid import UUID, uuid4

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.tables import notices
from notify.domain.notices import mask, received_text
from services.events import Envelope, parse
from services.events.schemas import DossierReceived
from services.messaging import Subscription
from services.runtime import Runtime


async def record_notice(session: AsyncSession, cause: Envelope, *, channel: str, recipient: str, body: str) -> None:
    await session.execute(
        insert(notices)
        .values(
            id=uuid4(),
            dossier_id=UUID(cause.dossier_id),
            trigger=cause.type,
            trigger_event_id=cause.event_id,
            channel=channel,
            recipient=recipient,
            recipient_masked=mask(recipient),
            body=body,
            status="pending",
        )
        .on_conflict_do_nothing(constraint="uq_notify_notice_once")
    )


async def on_dossier_received(session: AsyncSession, envelope: Envelope) -> None:
    event = parse(envelope, DossierReceived)
    # Until the SMS and e-mail channels exist, every notice goes to the console sink.
    recipient = event.applicant.phone or event.applicant.email or event.applicant.name
    await record_notice(session, envelope, channel="console", recipient=recipient, body=received_text(event))


def subscriptions(runtime: Runtime) -> list[Subscription]:
    return [Subscription(name="notices", sources=("intake",), handlers={DossierReceived.event_type: on_dossier_received})]
