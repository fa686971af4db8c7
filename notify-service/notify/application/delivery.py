"""After a notice was sent: the SMS gateway's delivery receipt, and the operator's re-send of a
notice that failed."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from notify.application.dispatching import NOTICES_FAILED
from notify.application.ports import NotifyUnitOfWork
from notify.schemas import NoticeEntry, ReceiptApplied
from services.events.schemas import NoticeDelivered, NoticeFailed
from services.personal_data.redaction import scrub
from services.problems import Problem


def unknown_notice(detail: str) -> Problem:
    return Problem(404, "Unknown notice", detail, type="not-found")


async def apply_delivery_receipt(uow: NotifyUnitOfWork, gateway_id: str, status: str, *, delivered: bool) -> ReceiptApplied:
    """The gateway reached the handset (`notify.notice_delivered`), or it did not: the notice then
    fails for good (`notify.notice_failed`). A receipt repeated, or for a notice not (or no longer)
    sent, changes nothing and answers the notice's status."""
    now = datetime.now(UTC)
    async with uow() as work:
        notice = await work.notices.sent_with(gateway_id)
        if notice is None:
            raise unknown_notice(f"no notice was sent with id {gateway_id}")
        if notice.status != "sent":
            return ReceiptApplied(notice_id=str(notice.id), status=notice.status)
        if delivered:
            await work.notices.mark_delivered(notice.id, now)
            await work.events.emit(
                NoticeDelivered(notice_id=str(notice.id), channel=notice.channel, delivered_at=now),
                dossier_id=str(notice.dossier_id),
            )
            return ReceiptApplied(notice_id=str(notice.id), status="delivered")
        error = scrub(f"delivery receipt: {status}")[:500]
        await work.notices.mark_undelivered(notice.id, error, now)
        failed = NoticeFailed(
            notice_id=str(notice.id),
            trigger=notice.trigger,
            channel=notice.channel,
            recipient=notice.recipient_masked,
            error=error,
            permanent=True,
            failed_at=now,
        )
        await work.events.emit(failed, dossier_id=str(notice.dossier_id))
        NOTICES_FAILED.labels(notice.channel, "true").inc()
        return ReceiptApplied(notice_id=str(notice.id), status="failed")


async def resend_notice(uow: NotifyUnitOfWork, notice_id: UUID) -> NoticeEntry:
    """Only a failed notice can be re-sent (409 naming its status otherwise); it goes out under a
    new idempotency id (`<id>.rN`) so a gateway that honours ids does not drop it."""
    async with uow() as work:
        status = await work.notices.status_for_update(notice_id)
        if status is None:
            raise unknown_notice(f"no notice {notice_id}")
        if status != "failed":
            raise Problem(
                409,
                "Not re-sendable",
                f"only a failed notice can be re-sent; this one is {status}",
                type="conflict",
                current_status=status,
            )
        if await work.notices.erased(notice_id):
            raise Problem(
                409,
                "Not re-sendable",
                "its recipient and texts were erased (retention, or the citizen's request)",
                type="conflict",
                current_status=status,
            )
        return NoticeEntry.model_validate(await work.notices.send_again(notice_id, datetime.now(UTC)))
