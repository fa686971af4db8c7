"""Notify's REST API: the delivery log of a dossier, the SMS gateway's delivery-receipt callback,
and the operator's dead-letter list of failed notices with a way to re-send them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Header, Query
from pydantic import BaseModel
from sqlalchemy import or_, select, update

from notify.adapters.tables import notices
from notify.settings import NotifySettings
from services.events.schemas import NoticeDelivered, NoticeFailed
from services.problems import Problem
from services.web import RuntimeDep, StaffOnly, require_operator, same_secret

router = APIRouter(tags=["notices"])


class NoticePublic(BaseModel):
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
    dossier_id: UUID


@router.get(
    "/dossiers/{dossier_id}/notices",
    dependencies=StaffOnly,
    response_model=list[NoticePublic],
    summary="Delivery log of a dossier's notices",
)
async def get_notices(dossier_id: UUID, runtime: RuntimeDep) -> list[NoticePublic]:
    async with runtime.sessionmaker() as session:
        rows = (
            (
                await session.execute(
                    select(notices).where(notices.c.dossier_id == dossier_id).order_by(notices.c.created_at, notices.c.channel)
                )
            )
            .mappings()
            .all()
        )
    return [NoticePublic.model_validate(dict(r)) for r in rows]


RECEIPT_EXAMPLE = {
    "request_id": "6f1c2a9e-2b7d-4a57-9d0e-1f2a3b4c5d6e",
    "status": "DELIVERED",
    "delivered_at": "2026-11-22T08:30:00+07:00",
}


@router.post("/sms/delivery-receipts", summary="Delivery receipt callback of the SMS gateway")
async def delivery_receipt(
    runtime: RuntimeDep,
    receipt: Annotated[dict[str, Any], Body(json_schema_extra={"examples": [RECEIPT_EXAMPLE]})],
    x_callback_token: Annotated[str | None, Header()] = None,
    token: Annotated[str | None, Query(description="Alternative to the X-Callback-Token header.")] = None,
) -> dict[str, str]:
    """Field names and the delivered status values are configuration (NOTIFY_SMS_RECEIPT_*). A repeated
    receipt changes nothing. A receipt with any other status records the notice as failed (permanent)."""
    settings: NotifySettings = runtime.settings  # type: ignore[assignment]
    if settings.sms_receipt_token is not None:
        given = x_callback_token or token or ""
        if not same_secret(given, settings.sms_receipt_token):
            raise Problem(401, "Unauthorized", "callback token required", type="unauthorized")
    gateway_id = receipt.get(settings.sms_receipt_id_field)
    status = receipt.get(settings.sms_receipt_status_field)
    errors = [
        {"field": name, "message": "required"}
        for name, value in ((settings.sms_receipt_id_field, gateway_id), (settings.sms_receipt_status_field, status))
        if not isinstance(value, (str, int)) or str(value) == ""
    ]
    if errors:
        raise Problem(422, "Invalid delivery receipt", "the receipt lacks a required field", type="validation", errors=errors)
    delivered = str(status) in {v.strip() for v in settings.sms_receipt_delivered.split(",")}
    now = datetime.now(UTC)
    async with runtime.sessionmaker() as session, session.begin():
        row = (
            await session.execute(
                select(
                    notices.c.id,
                    notices.c.dossier_id,
                    notices.c.status,
                    notices.c.trigger,
                    notices.c.channel,
                    notices.c.recipient_masked,
                )
                .where(or_(notices.c.gateway_id == str(gateway_id), notices.c.provider_message_id == str(gateway_id)))
                .with_for_update()
            )
        ).first()
        if row is None:
            raise Problem(404, "Unknown notice", f"no notice was sent with id {gateway_id}", type="not-found")
        if row.status != "sent":
            return {"notice_id": str(row.id), "status": row.status}  # already applied, or never sent
        if delivered:
            await session.execute(update(notices).where(notices.c.id == row.id).values(status="delivered", delivered_at=now))
            await runtime.outbox.emit(
                session,
                NoticeDelivered(notice_id=str(row.id), channel=row.channel, delivered_at=now),
                dossier_id=str(row.dossier_id),
            )
            return {"notice_id": str(row.id), "status": "delivered"}
        error = f"delivery receipt: {status}"
        await session.execute(
            update(notices).where(notices.c.id == row.id).values(status="failed", failed_at=now, permanent=True, last_error=error)
        )
        await runtime.outbox.emit(
            session,
            NoticeFailed(
                notice_id=str(row.id),
                trigger=row.trigger,
                channel=row.channel,
                recipient=row.recipient_masked,
                error=error,
                permanent=True,
                failed_at=now,
            ),
            dossier_id=str(row.dossier_id),
        )
        return {"notice_id": str(row.id), "status": "failed"}


admin = APIRouter(prefix="/admin/notices", tags=["operations"], dependencies=[Depends(require_operator)])


@admin.get("", response_model=list[NoticeEntry], summary="Notices by status: the failed ones are the dead letters")
async def list_notices(
    runtime: RuntimeDep,
    status: Literal["failed", "held", "pending", "sending", "sent", "delivered", "skipped"] = "failed",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[NoticeEntry]:
    async with runtime.sessionmaker() as session:
        rows = (
            (
                await session.execute(
                    select(notices).where(notices.c.status == status).order_by(notices.c.created_at.desc()).limit(limit)
                )
            )
            .mappings()
            .all()
        )
    return [NoticeEntry.model_validate(dict(r)) for r in rows]


@admin.post("/{notice_id}/resend", response_model=NoticeEntry, summary="Send a failed notice again")
async def resend(notice_id: UUID, runtime: RuntimeDep) -> NoticeEntry:
    """Only a failed notice can be re-sent; it goes out under a new idempotency id (`<id>.rN`)."""
    async with runtime.sessionmaker() as session, session.begin():
        current = (await session.execute(select(notices.c.status).where(notices.c.id == notice_id).with_for_update())).first()
        if current is None:
            raise Problem(404, "Unknown notice", f"no notice {notice_id}", type="not-found")
        if current.status != "failed":
            raise Problem(
                409,
                "Not re-sendable",
                f"only a failed notice can be re-sent; this one is {current.status}",
                type="conflict",
                current_status=current.status,
            )
        row = (
            (
                await session.execute(
                    update(notices)
                    .where(notices.c.id == notice_id)
                    .values(
                        status="pending",
                        attempts=0,
                        resends=notices.c.resends + 1,
                        next_attempt_at=datetime.now(UTC),
                        failed_at=None,
                        permanent=None,
                    )
                    .returning(*notices.c)
                )
            )
            .mappings()
            .one()
        )
    return NoticeEntry.model_validate(dict(row))


router.include_router(admin)
