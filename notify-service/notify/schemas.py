"""Notify's request and response bodies: the delivery log of a dossier, the operator's list of
notices, the SMS gateway's delivery receipt."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from notify.application.ports import NoticeStatus

RECEIPT_EXAMPLE: dict[str, Any] = {
    "request_id": "6f1c2a9e-2b7d-4a57-9d0e-1f2a3b4c5d6e",
    "status": "DELIVERED",
    "delivered_at": "2026-11-22T08:30:00+07:00",
}


class NoticePublic(BaseModel):
    """One notice in a dossier's delivery log: what was said, to whom (masked), and what became of it."""

    id: UUID
    trigger: str
    channel: str
    recipient_masked: str
    subject: str | None
    body: str
    attachment_name: str | None
    language: str
    status: str
    attempts: int
    resends: int
    last_error: str | None
    permanent: bool | None
    created_at: datetime
    held_until: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None


class NoticeEntry(NoticePublic):
    """A notice in the operator's list, across dossiers."""

    dossier_id: UUID


class ReceiptApplied(BaseModel):
    """What a delivery receipt did: the notice it was for and the notice's status now."""

    notice_id: str
    status: NoticeStatus
