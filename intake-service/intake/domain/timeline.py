"""What another service's event adds to a dossier's timeline (the citizen's "where is my dossier"),
in plain Vietnamese, and which columns it changes besides the status. Pure: the event and the
dossier's current row in, a `Note` out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.events import Actor, Event
from services.events import schemas as ev
from services.formatting import format_datetime, format_money
from services.vocabulary import PortalStatus

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


RETURN_LABELS = {"counter": "Bộ phận Một cửa", "post": "dịch vụ bưu chính công ích", "online": "cổng dịch vụ công (bản điện tử)"}


# ---------------------------------------------------------------- what the counter did
# Each entry names who did it (`by`: the officer, the portal or LGSP, or the citizen), as the
# control sheet and an audit ask; the citizen's look-up shows only the label.


def _by(actor: Actor) -> dict[str, Any]:
    return actor.model_dump(mode="json")


def received_note(code: str, by: Actor) -> Note:
    return Note("received", PortalStatus.ACCEPTED.label, {"code": code, "by": _by(by)})


def supplement_requested_note(items: list[str], by: Actor) -> Note:
    return Note(
        "supplement_requested",
        "Yêu cầu bổ sung hồ sơ: " + "; ".join(items),
        {"requested_by": "counter", "items": items, "by": _by(by)},
    )


def supplement_received_note(items: list[str], by: Actor) -> Note:
    return Note("supplement_received", "Công dân đã bổ sung hồ sơ; tiếp tục giải quyết", {"items": items, "by": _by(by)})


def refused_note(reason: str, by: Actor) -> Note:
    return Note("refused", f"Từ chối tiếp nhận: {reason}", {"refused_by": "counter", "reason": reason, "by": _by(by)})


def withdrawn_note(reason: str | None, by: Actor) -> Note:
    return Note("withdrawn", "Công dân rút hồ sơ", {"reason": reason, "by": _by(by)})


def returned_note(method: str, returned_at: datetime, by: Actor) -> Note:
    return Note(
        "result_returned",
        f"Đã trả kết quả qua {RETURN_LABELS[method]}",
        {"method": method, "returned_at": returned_at.isoformat(), "by": _by(by)},
    )


def rated_note(score: int, by: Actor) -> Note:
    return Note("rated", f"Đánh giá mức độ hài lòng: {score}/5", {"score": score, "by": _by(by)})


# ---------------------------------------------------------------- what the other services did


def describe(event: Event, row: Mapping[str, Any]) -> Note:
    return DESCRIBE[type(event)](event, row)


def _agency(row: Mapping[str, Any], step_id: str | None, code: str | None) -> str:
    if code and row["current_agency_code"] == code and row["current_agency_name"]:
        return row["current_agency_name"]
    for step in row["steps"] or []:
        if step["step_id"] == step_id and (code is None or step["agency_code"] == code):
            return step["agency_name"]
    return code or "cơ quan giải quyết"


def _step_assigned(e: ev.StepAssigned, row: Mapping[str, Any]) -> Note:
    return Note(
        "step_assigned",
        f"Chuyển đến {e.agency_name}",
        {"step_id": e.step_id, "agency_code": e.agency_code},
        changes={"current_agency_code": e.agency_code, "current_agency_name": e.agency_name},
    )


def _step_accepted(e: ev.StepAccepted, row: Mapping[str, Any]) -> Note:
    return Note(
        "step_accepted",
        f"{_agency(row, e.step_id, e.agency_code)} đang xử lý",
        {"step_id": e.step_id, "agency_code": e.agency_code},
    )


def _step_completed(e: ev.StepCompleted, row: Mapping[str, Any]) -> Note:
    return Note(
        "step_completed",
        f"{_agency(row, e.step_id, e.agency_code)} đã xử lý xong",
        {"step_id": e.step_id, "agency_code": e.agency_code},
    )


def _step_returned(e: ev.StepReturned, row: Mapping[str, Any]) -> Note:
    return Note(
        "step_returned",
        f"{_agency(row, e.step_id, e.agency_code)} chuyển lại bước trước: {e.reason}",
        {"step_id": e.step_id, "to_step_id": e.to_step_id},
        public=False,
    )


def _step_transferred(e: ev.StepTransferred, row: Mapping[str, Any]) -> Note:
    return Note(
        "step_transferred",
        f"Chuyển đến {e.to_agency_name}",
        {"step_id": e.step_id, "from": e.from_agency_code, "to": e.to_agency_code},
        changes={"current_agency_code": e.to_agency_code, "current_agency_name": e.to_agency_name},
    )


def _fee_requested(e: ev.FeeRequested, row: Mapping[str, Any]) -> Note:
    return Note(
        "fee_requested",
        f"Thông báo nghĩa vụ tài chính: {e.description}, {format_money(e.amount_vnd)}",
        {"step_id": e.step_id, "agency_code": e.agency_code, "amount_vnd": e.amount_vnd},
    )


def _fee_paid(e: ev.FeePaid, row: Mapping[str, Any]) -> Note:
    return Note(
        "fee_paid",
        f"Đã hoàn thành nghĩa vụ tài chính ({format_money(e.amount_vnd)})",
        {"step_id": e.step_id, "amount_vnd": e.amount_vnd},
    )


def _handling_stopped(e: ev.HandlingStopped, row: Mapping[str, Any]) -> Note:
    return Note("handling_stopped", f"Dừng xử lý: {e.reason}", {"step_id": e.step_id, "agency_code": e.agency_code})


def _handling_resumed(e: ev.HandlingResumed, row: Mapping[str, Any]) -> Note:
    return Note("handling_resumed", "Tiếp tục xử lý hồ sơ", {"step_id": e.step_id, "agency_code": e.agency_code})


def _route_completed(e: ev.RouteCompleted, row: Mapping[str, Any]) -> Note:
    return Note("route_completed", "Đã có kết quả giải quyết, mời nhận kết quả", {"result_documents": e.result_documents})


def _supplement_requested(e: ev.SupplementRequested, row: Mapping[str, Any]) -> Note:
    who = _agency(row, e.step_id, e.requested_by)
    return Note(
        "supplement_requested",
        f"{who} yêu cầu bổ sung hồ sơ: " + "; ".join(e.items),
        {"requested_by": e.requested_by, "items": e.items},
    )


def _refused(e: ev.DossierRefused, row: Mapping[str, Any]) -> Note:
    who = _agency(row, e.step_id, e.refused_by)
    return Note(
        "refused", f"{who} từ chối giải quyết: {e.reason}", {"refused_by": e.refused_by}, changes={"closing_reason": e.reason}
    )


def _deadline_tracked(e: ev.DeadlineTracked, row: Mapping[str, Any]) -> Note:
    label = "Hạn giải quyết hồ sơ" if e.scope == "dossier" else f"Hạn xử lý bước {e.step_id}"
    return Note("deadline", label, {"scope": e.scope, "step_id": e.step_id, "due_at": e.due_at.isoformat()}, public=False)


def _deadline_warning(e: ev.DeadlineWarning, row: Mapping[str, Any]) -> Note:
    return Note(
        "deadline_warning",
        f"Sắp đến hạn ({e.threshold}): {format_datetime(e.due_at)}",
        {"scope": e.scope, "step_id": e.step_id, "threshold": e.threshold},
        public=False,
    )


def _deadline_overdue(e: ev.DeadlineOverdue, row: Mapping[str, Any]) -> Note:
    whole = e.scope == "dossier"
    label = "Hồ sơ đã quá hạn giải quyết" if whole else f"Bước {e.step_id} quá hạn tại {e.agency_name or e.agency_code}"
    return Note(
        "overdue",
        label,
        {"scope": e.scope, "step_id": e.step_id, "agency_code": e.agency_code},
        public=whole,
        changes={"overdue": True} if whole else {},
    )


def _apology(e: ev.ApologyIssued, row: Mapping[str, Any]) -> Note:
    who = e.responsible_agency_name or "Cơ quan giải quyết"
    return Note(
        "apology",
        f"{who} xin lỗi vì chậm trả kết quả ({e.reason}); hẹn lại: {format_datetime(e.new_appointment_at)}",
        {"old_appointment_at": e.old_appointment_at.isoformat(), "new_appointment_at": e.new_appointment_at.isoformat()},
        changes={"appointment_at": e.new_appointment_at},  # still counted overdue: the legal due time was missed
    )


def _clock_paused(e: ev.ClockPaused, row: Mapping[str, Any]) -> Note:
    return Note("clock_paused", "Tạm dừng tính thời hạn giải quyết", {"status": e.status}, public=False)


def _clock_resumed(e: ev.ClockResumed, row: Mapping[str, Any]) -> Note:
    return Note(
        "clock_resumed",
        f"Tiếp tục tính thời hạn; ngày hẹn trả kết quả: {format_datetime(e.new_appointment_at)}",
        {
            "rule": e.rule,
            "old_appointment_at": e.old_appointment_at.isoformat(),
            "new_appointment_at": e.new_appointment_at.isoformat(),
        },
        changes={"appointment_at": e.new_appointment_at},
    )


def _deadline_closed(e: ev.DeadlineClosed, row: Mapping[str, Any]) -> Note:
    what = "Hồ sơ" if e.scope == "dossier" else f"Bước {e.step_id}"
    return Note(
        "deadline_closed",
        f"{what} hoàn thành {OUTCOME_LABELS[e.outcome]}",
        {"scope": e.scope, "outcome": e.outcome},
        public=False,
    )


def _notice_sent(e: ev.NoticeSent, row: Mapping[str, Any]) -> Note:
    return Note(
        "notice",
        f"Đã gửi {CHANNEL_LABELS[e.channel]} cho người nộp",
        {"channel": e.channel, "trigger": e.trigger, "recipient": e.recipient},
    )


def _notice_delivered(e: ev.NoticeDelivered, row: Mapping[str, Any]) -> Note:
    return Note("notice_delivered", f"{CHANNEL_LABELS[e.channel]} đã đến người nộp", {"notice_id": e.notice_id}, public=False)


def _notice_failed(e: ev.NoticeFailed, row: Mapping[str, Any]) -> Note:
    return Note(
        "notice_failed",
        f"Không gửi được {CHANNEL_LABELS[e.channel]} cho người nộp",
        {"notice_id": e.notice_id, "trigger": e.trigger, "permanent": e.permanent, "recipient": e.recipient},
        public=False,
    )


DESCRIBE: dict[type[Event], Callable[[Any, Mapping[str, Any]], Note]] = {
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

EVENT_TYPES = {schema.event_type: schema for schema in DESCRIBE}
