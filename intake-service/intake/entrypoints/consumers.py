"""Intake keeps each dossier's citizen-facing status (national codes 1–10) and timeline from the
other services' events, so one place answers "where is my dossier"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters import repository
from intake.adapters.tables import dossiers, supplement_requests
from intake.domain.dossier import PortalStatus, vn_money, vn_time
from intake.domain.lifecycle import State, apply_event
from services.db import update_row
from services.events import Envelope, Event, parse
from services.events import schemas as ev
from services.messaging import Subscription
from services.runtime import Runtime

CHANNEL_LABELS = {"sms": "SMS", "email": "thư điện tử", "console": "thông báo"}
OUTCOME_LABELS = {"early": "trước hạn", "on_time": "đúng hạn", "late": "quá hạn"}


@dataclass(frozen=True)
class Note:
    """What an event adds to the timeline, and any column it changes besides the status."""

    kind: str
    label: str
    detail: dict[str, Any]
    public: bool = True
    changes: dict[str, Any] = field(default_factory=dict)


def _agency(row: dict[str, Any], step_id: str | None, code: str | None) -> str:
    if code and row["current_agency_code"] == code and row["current_agency_name"]:
        return row["current_agency_name"]
    for step in row["steps"] or []:
        if step["step_id"] == step_id and (code is None or step["agency_code"] == code):
            return step["agency_name"]
    return code or "cơ quan giải quyết"


def _step_assigned(e: ev.StepAssigned, row: dict[str, Any]) -> Note:
    return Note(
        "step_assigned",
        f"Chuyển đến {e.agency_name}",
        {"step_id": e.step_id, "agency_code": e.agency_code},
        changes={"current_agency_code": e.agency_code, "current_agency_name": e.agency_name},
    )


def _step_accepted(e: ev.StepAccepted, row: dict[str, Any]) -> Note:
    return Note(
        "step_accepted",
        f"{_agency(row, e.step_id, e.agency_code)} đang xử lý",
        {"step_id": e.step_id, "agency_code": e.agency_code},
    )


def _step_completed(e: ev.StepCompleted, row: dict[str, Any]) -> Note:
    return Note(
        "step_completed",
        f"{_agency(row, e.step_id, e.agency_code)} đã xử lý xong",
        {"step_id": e.step_id, "agency_code": e.agency_code},
    )


def _step_returned(e: ev.StepReturned, row: dict[str, Any]) -> Note:
    return Note(
        "step_returned",
        f"{_agency(row, e.step_id, e.agency_code)} chuyển lại bước trước: {e.reason}",
        {"step_id": e.step_id, "to_step_id": e.to_step_id},
        public=False,
    )


def _step_transferred(e: ev.StepTransferred, row: dict[str, Any]) -> Note:
    return Note(
        "step_transferred",
        f"Chuyển đến {e.to_agency_name}",
        {"step_id": e.step_id, "from": e.from_agency_code, "to": e.to_agency_code},
        changes={"current_agency_code": e.to_agency_code, "current_agency_name": e.to_agency_name},
    )


def _fee_requested(e: ev.FeeRequested, row: dict[str, Any]) -> Note:
    return Note(
        "fee_requested",
        f"Thông báo nghĩa vụ tài chính: {e.description}, {vn_money(e.amount_vnd)}",
        {"step_id": e.step_id, "agency_code": e.agency_code, "amount_vnd": e.amount_vnd},
    )


def _fee_paid(e: ev.FeePaid, row: dict[str, Any]) -> Note:
    return Note(
        "fee_paid",
        f"Đã hoàn thành nghĩa vụ tài chính ({vn_money(e.amount_vnd)})",
        {"step_id": e.step_id, "amount_vnd": e.amount_vnd},
    )


def _handling_stopped(e: ev.HandlingStopped, row: dict[str, Any]) -> Note:
    return Note("handling_stopped", f"Dừng xử lý: {e.reason}", {"step_id": e.step_id, "agency_code": e.agency_code})


def _handling_resumed(e: ev.HandlingResumed, row: dict[str, Any]) -> Note:
    return Note("handling_resumed", "Tiếp tục xử lý hồ sơ", {"step_id": e.step_id, "agency_code": e.agency_code})


def _route_completed(e: ev.RouteCompleted, row: dict[str, Any]) -> Note:
    return Note("route_completed", "Đã có kết quả giải quyết, mời nhận kết quả", {"result_documents": e.result_documents})


def _supplement_requested(e: ev.SupplementRequested, row: dict[str, Any]) -> Note:
    who = _agency(row, e.step_id, e.requested_by)
    return Note(
        "supplement_requested",
        f"{who} yêu cầu bổ sung hồ sơ: " + "; ".join(e.items),
        {"requested_by": e.requested_by, "items": e.items},
    )


def _refused(e: ev.DossierRefused, row: dict[str, Any]) -> Note:
    who = _agency(row, e.step_id, e.refused_by)
    return Note(
        "refused", f"{who} từ chối giải quyết: {e.reason}", {"refused_by": e.refused_by}, changes={"closing_reason": e.reason}
    )


def _deadline_tracked(e: ev.DeadlineTracked, row: dict[str, Any]) -> Note:
    label = "Hạn giải quyết hồ sơ" if e.scope == "dossier" else f"Hạn xử lý bước {e.step_id}"
    return Note("deadline", label, {"scope": e.scope, "step_id": e.step_id, "due_at": e.due_at.isoformat()}, public=False)


def _deadline_warning(e: ev.DeadlineWarning, row: dict[str, Any]) -> Note:
    return Note(
        "deadline_warning",
        f"Sắp đến hạn ({e.threshold}): {vn_time(e.due_at)}",
        {"scope": e.scope, "step_id": e.step_id, "threshold": e.threshold},
        public=False,
    )


def _deadline_overdue(e: ev.DeadlineOverdue, row: dict[str, Any]) -> Note:
    whole = e.scope == "dossier"
    label = "Hồ sơ đã quá hạn giải quyết" if whole else f"Bước {e.step_id} quá hạn tại {e.agency_name or e.agency_code}"
    return Note(
        "overdue",
        label,
        {"scope": e.scope, "step_id": e.step_id, "agency_code": e.agency_code},
        public=whole,
        changes={"overdue": True} if whole else {},
    )


def _apology(e: ev.ApologyIssued, row: dict[str, Any]) -> Note:
    who = e.responsible_agency_name or "Cơ quan giải quyết"
    return Note(
        "apology",
        f"{who} xin lỗi vì chậm trả kết quả ({e.reason}); hẹn lại: {vn_time(e.new_appointment_at)}",
        {"old_appointment_at": e.old_appointment_at.isoformat(), "new_appointment_at": e.new_appointment_at.isoformat()},
        changes={"appointment_at": e.new_appointment_at},  # still counted overdue: the legal due time was missed
    )


def _clock_paused(e: ev.ClockPaused, row: dict[str, Any]) -> Note:
    return Note("clock_paused", "Tạm dừng tính thời hạn giải quyết", {"status": e.status}, public=False)


def _clock_resumed(e: ev.ClockResumed, row: dict[str, Any]) -> Note:
    return Note(
        "clock_resumed",
        f"Tiếp tục tính thời hạn; ngày hẹn trả kết quả: {vn_time(e.new_appointment_at)}",
        {
            "rule": e.rule,
            "old_appointment_at": e.old_appointment_at.isoformat(),
            "new_appointment_at": e.new_appointment_at.isoformat(),
        },
        changes={"appointment_at": e.new_appointment_at},
    )


def _deadline_closed(e: ev.DeadlineClosed, row: dict[str, Any]) -> Note:
    what = "Hồ sơ" if e.scope == "dossier" else f"Bước {e.step_id}"
    return Note(
        "deadline_closed",
        f"{what} hoàn thành {OUTCOME_LABELS[e.outcome]}",
        {"scope": e.scope, "outcome": e.outcome},
        public=False,
    )


def _notice_sent(e: ev.NoticeSent, row: dict[str, Any]) -> Note:
    return Note(
        "notice",
        f"Đã gửi {CHANNEL_LABELS[e.channel]} cho người nộp",
        {"channel": e.channel, "trigger": e.trigger, "recipient": e.recipient},
    )


def _notice_delivered(e: ev.NoticeDelivered, row: dict[str, Any]) -> Note:
    return Note("notice_delivered", f"{CHANNEL_LABELS[e.channel]} đã đến người nộp", {"notice_id": e.notice_id}, public=False)


def _notice_failed(e: ev.NoticeFailed, row: dict[str, Any]) -> Note:
    return Note(
        "notice_failed",
        f"Không gửi được {CHANNEL_LABELS[e.channel]} cho người nộp",
        {"notice_id": e.notice_id, "trigger": e.trigger, "permanent": e.permanent, "recipient": e.recipient},
        public=False,
    )


DESCRIBE: dict[type[Event], Callable[[Any, dict[str, Any]], Note]] = {
    ev.StepAssigned: _step_assigned,
    ev.StepAccepted: _step_accepted,
    ev.StepCompleted: _step_completed,
    ev.StepReturned: _step_returned,
    ev.StepTransferred: _step_transferred,
    ev.FeeRequested: _fee_requested,
    ev.FeePaid: _fee_paid,
    ev.HandlingStopped: _handling_stopped,
    ev.HandlingResumed: _handling_resumed,
    ev.RouteCompleted: _route_completed,
    ev.SupplementRequested: _supplement_requested,
    ev.DossierRefused: _refused,
    ev.DeadlineTracked: _deadline_tracked,
    ev.DeadlineWarning: _deadline_warning,
    ev.DeadlineOverdue: _deadline_overdue,
    ev.ApologyIssued: _apology,
    ev.ClockPaused: _clock_paused,
    ev.ClockResumed: _clock_resumed,
    ev.DeadlineClosed: _deadline_closed,
    ev.NoticeSent: _notice_sent,
    ev.NoticeDelivered: _notice_delivered,
    ev.NoticeFailed: _notice_failed,
}
BY_TYPE = {schema.event_type: schema for schema in DESCRIBE}


async def on_event(session: AsyncSession, envelope: Envelope) -> None:
    """Apply one event of routing, deadline or notify to the dossier's status and timeline."""
    event = parse(envelope, BY_TYPE[envelope.type])
    dossier_id = UUID(envelope.dossier_id)
    row = await repository.lock_for_event(session, dossier_id)
    if row is None:  # dead-lettered, to be replayed once the cause is known
        raise LookupError(f"intake has no dossier {dossier_id}")
    note = DESCRIBE[type(event)](event, row)
    before = State(PortalStatus(row["status"]), PortalStatus(row["resume_status"]) if row["resume_status"] else None)
    after = apply_event(before, envelope.type)
    changes = dict(note.changes)
    if after != before:
        changes |= {"status": int(after.status), "resume_status": int(after.resume_status) if after.resume_status else None}
    if changes:
        await update_row(session, dossiers, {"id": dossier_id}, {**changes, "updated_at": envelope.occurred_at})
    if isinstance(event, ev.ClockResumed):
        await _record_new_appointment(session, dossier_id, event)
    if isinstance(event, ev.SupplementRequested) and after.status is PortalStatus.SUPPLEMENT_REQUESTED:
        await session.execute(
            insert(supplement_requests).values(
                dossier_id=dossier_id,
                requested_by=event.requested_by,
                step_id=event.step_id,
                items=event.items,
                reason=event.reason,
                requested_at=event.requested_at,
                appointment_before=row["appointment_at"],
            )
        )
    await repository.add_timeline(
        session,
        dossier_id,
        at=envelope.occurred_at,
        kind=note.kind,
        label=note.label,
        detail=note.detail,
        event_id=envelope.event_id,
        public=note.public,
    )


async def _record_new_appointment(session: AsyncSession, dossier_id: UUID, event: ev.ClockResumed) -> None:
    """The supplement the citizen brought last gets its new appointment date (NgayHenTraMoi)."""
    latest = (
        select(supplement_requests.c.id)
        .where(
            supplement_requests.c.dossier_id == dossier_id,
            supplement_requests.c.received_at.is_not(None),
            supplement_requests.c.appointment_after.is_(None),
        )
        .order_by(supplement_requests.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    await session.execute(
        update(supplement_requests).where(supplement_requests.c.id == latest).values(appointment_after=event.new_appointment_at)
    )


def subscriptions(runtime: Runtime) -> list[Subscription]:
    return [Subscription(name="timeline", sources=("routing", "deadline", "notify"), handlers={t: on_event for t in BY_TYPE})]
