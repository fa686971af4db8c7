"""Intake keeps each dossier's citizen-facing status and timeline from the other services' events."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters.tables import dossiers, timeline
from intake.domain.dossier import PortalStatus
from services.events import Envelope, parse
from services.events.schemas import DeadlineTracked, NoticeSent, StepAssigned
from services.messaging import Subscription
from services.runtime import Runtime

CHANNEL_LABELS = {"sms": "SMS", "email": "thư điện tử", "console": "thông báo"}


async def _add(session: AsyncSession, envelope: Envelope, kind: str, label: str, detail: dict[str, object]) -> None:
    await session.execute(
        insert(timeline).values(
            dossier_id=UUID(envelope.dossier_id), at=envelope.occurred_at, kind=kind, label=label, detail=detail, event_id=envelope.event_id
        )
    )


async def on_step_assigned(session: AsyncSession, envelope: Envelope) -> None:
    event = parse(envelope, StepAssigned)
    await session.execute(
        update(dossiers)
        .where(dossiers.c.id == UUID(envelope.dossier_id), dossiers.c.status == PortalStatus.ACCEPTED)
        .values(status=PortalStatus.IN_PROGRESS)
    )
    await _add(session, envelope, "step_assigned", f"Chuyển đến {event.agency_name}", {"step_id": event.step_id, "agency_code": event.agency_code})


async def on_deadline_tracked(session: AsyncSession, envelope: Envelope) -> None:
    event = parse(envelope, DeadlineTracked)
    label = "Hạn giải quyết hồ sơ" if event.scope == "dossier" else f"Hạn xử lý bước {event.step_id}"
    await _add(session, envelope, "deadline", label, {"scope": event.scope, "step_id": event.step_id, "due_at": event.due_at.isoformat()})


async def on_notice_sent(session: AsyncSession, envelope: Envelope) -> None:
    event = parse(envelope, NoticeSent)
    await _add(
        session,
        envelope,
        "notice",
        f"Đã gửi {CHANNEL_LABELS[event.channel]} cho người nộp",
        {"channel": event.channel, "trigger": event.trigger, "recipient": event.recipient},
    )


def subscriptions(runtime: Runtime) -> list[Subscription]:
    return [
        Subscription(
            name="timeline",
            sources=("routing", "deadline", "notify"),
            handlers={
                StepAssigned.event_type: on_step_assigned,
                DeadlineTracked.event_type: on_deadline_tracked,
                NoticeSent.event_type: on_notice_sent,
            },
        )
    ]
