"""Notify's REST API: the delivery log of a dossier, the SMS gateway's delivery-receipt callback,
and the operator's dead-letter list of failed notices with a way to re-send them."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Body, Query

from notify.application.delivery import apply_delivery_receipt, resend_notice
from notify.application.reading import delivery_log, notices_with_status
from notify.deps import GatewayOnly, NoticeReader, SettingsDep, UnitOfWorkDep
from notify.schemas import RECEIPT_EXAMPLE, NoticeEntry, NoticePublic, ReceiptApplied
from services.identity import OperatorOnly
from services.problems import field_error, invalid

router = APIRouter(tags=["notices"])


@router.get("/dossiers/{dossier_id}/notices", response_model=list[NoticePublic], summary="Delivery log of a dossier's notices")
async def get_notices(dossier_id: UUID, uow: UnitOfWorkDep, caller: NoticeReader) -> list[NoticePublic]:
    """Counter officers and unit leaders of the unit that received the dossier, and the province
    administrator; any other dossier is 404. Each read is recorded in the audit trail."""
    return await delivery_log(uow, dossier_id, caller.scope)


@router.post(
    "/sms/delivery-receipts",
    dependencies=GatewayOnly,
    response_model=ReceiptApplied,
    summary="Delivery receipt callback of the SMS gateway",
)
async def delivery_receipt(
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    receipt: Annotated[dict[str, Any], Body(json_schema_extra={"examples": [RECEIPT_EXAMPLE]})],
) -> ReceiptApplied:
    """Called by the gateway, with NOTIFY_SMS_RECEIPT_TOKEN as `X-Callback-Token` (refused when none is
    configured). Field names and the delivered status values are configuration (NOTIFY_SMS_RECEIPT_*).
    A repeated receipt changes nothing. A receipt with any other status records the notice as failed
    (permanent)."""
    gateway_id = receipt.get(settings.sms_receipt_id_field)
    status = receipt.get(settings.sms_receipt_status_field)
    errors = [
        field_error(name, "required", "missing")
        for name, value in ((settings.sms_receipt_id_field, gateway_id), (settings.sms_receipt_status_field, status))
        if not isinstance(value, (str, int)) or str(value) == ""
    ]
    if errors:
        raise invalid(errors)
    delivered = str(status) in {v.strip() for v in settings.sms_receipt_delivered.split(",")}
    return await apply_delivery_receipt(uow, str(gateway_id), str(status), delivered=delivered)


admin = APIRouter(prefix="/admin/notices", tags=["operations"], dependencies=OperatorOnly)


@admin.get("", response_model=list[NoticeEntry], summary="Notices by status: the failed ones are the dead letters")
async def list_notices(
    uow: UnitOfWorkDep,
    status: Literal["failed", "held", "pending", "sending", "sent", "delivered", "skipped"] = "failed",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[NoticeEntry]:
    return await notices_with_status(uow, status, limit)


@admin.post("/{notice_id}/resend", response_model=NoticeEntry, summary="Send a failed notice again")
async def resend(notice_id: UUID, uow: UnitOfWorkDep) -> NoticeEntry:
    """Only a failed notice can be re-sent; it goes out under a new idempotency id (`<id>.rN`)."""
    return await resend_notice(uow, notice_id)


router.include_router(admin)
