"""The counter officer's rules, without I/O: which actions a dossier's status allows, how the
reception form becomes intake's `DossierCreate` body, the Vietnamese message shown beside each field
the API refused, the procedure search, the queue's filters, and what the printable forms show
(form 1 giấy tiếp nhận, form 2 phiếu yêu cầu bổ sung, form 3 phiếu từ chối, form 5 phiếu kiểm soát).

The action rule repeats intake's (`intake.domain.lifecycle.ALLOWED_FROM`) on purpose: the console
offers only what intake will accept, and intake still answers 409 if the two ever differ."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from services.formatting import format_date
from services.vocabulary import VN_TZ, PortalStatus

S = PortalStatus


class Action(StrEnum):
    """What the counter records on a received dossier, each posting to one intake endpoint."""

    REQUEST_SUPPLEMENT = "request_supplement"  # Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (form 2)
    RECEIVE_SUPPLEMENT = "receive_supplement"  # công dân nộp bổ sung
    REFUSE = "refuse"  # Phiếu từ chối tiếp nhận giải quyết hồ sơ (form 3)
    WITHDRAW = "withdraw"  # công dân rút hồ sơ
    RETURN_RESULT = "return_result"  # trả kết quả


ALLOWED_FROM: dict[Action, frozenset[PortalStatus]] = {
    Action.REQUEST_SUPPLEMENT: frozenset({S.SUBMITTED_ONLINE, S.ACCEPTED, S.IN_PROGRESS}),
    Action.RECEIVE_SUPPLEMENT: frozenset({S.SUPPLEMENT_REQUESTED}),
    Action.REFUSE: frozenset({S.SUBMITTED_ONLINE, S.ACCEPTED, S.SUPPLEMENT_REQUESTED}),
    Action.WITHDRAW: frozenset(
        {S.SUBMITTED_ONLINE, S.ACCEPTED, S.IN_PROGRESS, S.SUPPLEMENT_REQUESTED, S.AWAITING_PAYMENT, S.STOPPED}
    ),
    Action.RETURN_RESULT: frozenset({S.RESULT_READY}),
}

# The page's path segment of each action (POST /ho-so/{id}/<segment>), its heading and its flash.
ACTION_PATHS: dict[Action, str] = {
    Action.REQUEST_SUPPLEMENT: "yeu-cau-bo-sung",
    Action.RECEIVE_SUPPLEMENT: "nhan-bo-sung",
    Action.REFUSE: "tu-choi",
    Action.WITHDRAW: "rut-ho-so",
    Action.RETURN_RESULT: "tra-ket-qua",
}
ACTION_LABELS: dict[Action, str] = {
    Action.REQUEST_SUPPLEMENT: "Yêu cầu bổ sung, hoàn thiện hồ sơ",
    Action.RECEIVE_SUPPLEMENT: "Nhận hồ sơ bổ sung",
    Action.REFUSE: "Từ chối tiếp nhận hồ sơ",
    Action.WITHDRAW: "Công dân rút hồ sơ",
    Action.RETURN_RESULT: "Trả kết quả",
}
ACTION_DONE: dict[Action, str] = {
    Action.REQUEST_SUPPLEMENT: "Đã gửi yêu cầu bổ sung hồ sơ. In phiếu yêu cầu bổ sung để giao cho công dân.",
    Action.RECEIVE_SUPPLEMENT: "Đã ghi nhận hồ sơ bổ sung; hồ sơ tiếp tục được giải quyết.",
    Action.REFUSE: "Đã từ chối tiếp nhận hồ sơ. In phiếu từ chối để giao cho công dân.",
    Action.WITHDRAW: "Đã ghi nhận công dân rút hồ sơ.",
    Action.RETURN_RESULT: "Đã ghi nhận trả kết quả.",
}
RECEIVED = "received"  # the flash after a dossier is received at the counter
FLASHES: dict[str, str] = {RECEIVED: "Đã tiếp nhận hồ sơ. In giấy tiếp nhận và hẹn trả kết quả cho công dân."} | {
    a.value: text for a, text in ACTION_DONE.items()
}
CONFLICT = "Trạng thái hiện tại của hồ sơ không cho phép thao tác này. Trang đã được tải lại với trạng thái mới nhất."

RETURN_METHODS: dict[str, str] = {
    "counter": "Tại Bộ phận Một cửa",
    "post": "Qua dịch vụ bưu chính công ích",
    "online": "Trực tuyến (bản điện tử)",
}


def action_for(segment: str) -> Action | None:
    return next((a for a, s in ACTION_PATHS.items() if s == segment), None)


def actions_for(status: int) -> list[Action]:
    """The counter's actions the dossier's status allows, in the order the page offers them."""
    try:
        current = PortalStatus(int(status))
    except ValueError:
        return []
    return [a for a in Action if current in ALLOWED_FROM[a]]


def action_body(action: Action, form: Mapping[str, str]) -> dict[str, Any]:
    """The JSON body of an action's intake call, from its small form (items one per line)."""
    match action:
        case Action.REQUEST_SUPPLEMENT:
            return {"items": lines(form.get("items", "")), "reason": form.get("reason", "").strip() or None}
        case Action.RECEIVE_SUPPLEMENT:
            return {"items": lines(form.get("items", ""))}
        case Action.REFUSE:
            return {"reason": form.get("reason", "").strip()}
        case Action.WITHDRAW:
            return {"reason": form.get("reason", "").strip() or None}
        case Action.RETURN_RESULT:
            return {"method": form.get("method", "")}


def lines(text: str) -> list[str]:
    """The non-empty lines of a textarea, each stripped (one missing item a line)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


# ---------------------------------------------------------------- the reception form


def fold(text: str) -> str:
    """Lower case without diacritics (đ → d), so 'khai sinh' finds 'Khai sinh' and 'khai sinh' finds 'Khai Sinh'."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").casefold()


def match_procedures(procedures: Iterable[Mapping[str, Any]], query: str, limit: int = 20) -> list[Mapping[str, Any]]:
    """The catalogue's procedures whose name, code or field contain every word of `query`."""
    words = fold(query).split()
    if not words:
        return []
    found = []
    for p in procedures:
        haystack = fold(" ".join(str(p.get(k) or "") for k in ("name", "code", "field", "field_name")))
        if all(w in haystack for w in words):
            found.append(p)
    return found[:limit]


@dataclass(frozen=True)
class ReceptionForm:
    """What the counter officer typed, kept as typed so a refused form comes back unchanged."""

    procedure_code: str = ""
    channel: str = "1"
    receiving_unit: str = ""
    result_delivery: str = "counter"
    name: str = ""
    citizen_id: str = ""
    phone: str = ""
    email: str = ""
    notify_channels: tuple[str, ...] = ()
    language: str = "vi"  # of the applicant's notices
    documents: tuple[str, ...] = ()  # codes ticked
    originals: Mapping[str, str] = field(default_factory=dict)
    copies: Mapping[str, str] = field(default_factory=dict)

    @staticmethod
    def from_pairs(pairs: Iterable[tuple[str, str]]) -> ReceptionForm:
        """From the posted form's (name, value) pairs; repeated names (`doc`, `notify`) collect."""
        single: dict[str, str] = {}
        docs: list[str] = []
        notify: list[str] = []
        originals: dict[str, str] = {}
        copies: dict[str, str] = {}
        for key, value in pairs:
            if key == "doc":
                docs.append(value)
            elif key == "notify":
                notify.append(value)
            elif key.startswith("originals:"):
                originals[key.removeprefix("originals:")] = value.strip()
            elif key.startswith("copies:"):
                copies[key.removeprefix("copies:")] = value.strip()
            else:
                single[key] = value.strip()
        return ReceptionForm(
            procedure_code=single.get("procedure_code", ""),
            channel=single.get("channel", "1"),
            receiving_unit=single.get("receiving_unit", ""),
            result_delivery=single.get("result_delivery", "counter"),
            name=single.get("name", ""),
            citizen_id=single.get("citizen_id", ""),
            phone=single.get("phone", ""),
            email=single.get("email", ""),
            notify_channels=tuple(dict.fromkeys(notify)),
            language=single.get("language", "vi") or "vi",
            documents=tuple(dict.fromkeys(docs)),
            originals=originals,
            copies=copies,
        )


def _count(value: str | None, default: int) -> int | str:
    """A count as typed: a number when it is one, else the text itself for the API to name."""
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        return value


def dossier_create(form: ReceptionForm, procedure: Mapping[str, Any]) -> dict[str, Any]:
    """Intake's `DossierCreate` body: each ticked document with its originals and copies (the
    catalogue's numbers when left empty), the applicant's empty fields left out, and the language
    the applicant's notices are written in. No address: intake's `DossierCreate` has none."""
    defaults = {d["code"]: d for d in procedure.get("documents", [])}
    documents = []
    for code in form.documents:
        known = defaults.get(code, {})
        documents.append(
            {
                "code": code,
                "originals": _count(form.originals.get(code), int(known.get("originals", 1))),
                "copies": _count(form.copies.get(code), int(known.get("copies", 0))),
            }
        )
    applicant: dict[str, Any] = {"name": form.name, "notify_channels": list(form.notify_channels), "language": form.language}
    for key in ("citizen_id", "phone", "email"):
        value = getattr(form, key)
        if value:
            applicant[key] = value
    body: dict[str, Any] = {
        "procedure_code": form.procedure_code,
        "channel": _count(form.channel, 1),
        "documents": documents,
        "result_delivery": form.result_delivery or "counter",
        "applicant": applicant,
    }
    if form.receiving_unit:
        body["receiving_unit"] = form.receiving_unit
    return body


# The form's field each API field path is shown beside (documents.N.* beside the checklist).
FORM_FIELDS = {
    "procedure_code": "procedure_code",
    "channel": "channel",
    "receiving_unit": "receiving_unit",
    "result_delivery": "result_delivery",
    "documents": "documents",
    "applicant.name": "name",
    "applicant.citizen_id": "citizen_id",
    "applicant.phone": "phone",
    "applicant.email": "email",
    "applicant.notify_channels": "notify",
    "applicant.language": "language",
    "items": "items",
    "reason": "reason",
    "method": "method",
}

# What the officer reads beside a refused field, in Vietnamese; (field, code) first, then the field alone.
FIELD_MESSAGES: dict[tuple[str, str | None], str] = {
    ("applicant.phone", "missing"): "Cần số điện thoại di động để gửi thông báo qua SMS.",
    (
        "applicant.phone",
        None,
    ): "Số điện thoại di động không hợp lệ: 10 chữ số, bắt đầu bằng 03, 05, 07, 08 hoặc 09 (ví dụ 0912345678).",
    ("applicant.citizen_id", "missing"): "Cần số định danh cá nhân (12 chữ số) của người nộp hồ sơ.",
    ("applicant.citizen_id", None): "Số định danh cá nhân gồm đúng 12 chữ số.",
    ("applicant.email", "missing"): "Cần địa chỉ thư điện tử để gửi thông báo qua thư.",
    ("applicant.email", None): "Địa chỉ thư điện tử không hợp lệ (ví dụ ten@example.vn).",
    ("applicant.name", None): "Cần họ và tên người nộp hồ sơ.",
    ("applicant.notify_channels", None): "Cách nhận thông báo không hợp lệ.",
    ("applicant.language", None): "Chọn tiếng Việt hoặc tiếng Anh.",
    ("procedure_code", None): "Chưa chọn thủ tục, hoặc thủ tục không còn trong danh mục.",
    ("channel", "channel_not_offered"): "Thủ tục này không tiếp nhận qua hình thức đã chọn.",
    ("channel", None): "Chọn hình thức nộp hồ sơ.",
    ("receiving_unit", None): "Bạn không tiếp nhận hồ sơ cho đơn vị này.",
    ("result_delivery", None): "Chọn nơi nhận kết quả.",
    ("documents", None): "Danh sách giấy tờ chưa hợp lệ.",
    ("items", None): "Ghi ít nhất một giấy tờ, mỗi giấy tờ một dòng, không lặp lại.",
    ("reason", None): "Cần ghi rõ lý do.",
    ("method", None): "Chọn hình thức trả kết quả.",
}


def _form_field(api_field: str) -> str:
    if api_field.startswith("documents"):
        return "documents"
    return FORM_FIELDS.get(api_field, api_field)


def field_messages(errors: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """The 422 problem's errors as the form shows them: keyed by the form's field, in Vietnamese
    (a missing required document is named), several for one field joined."""
    shown: dict[str, list[str]] = {}
    for error in errors:
        api_field = error.get("field", "") or ""
        code = error.get("code")
        if api_field.startswith("documents") and code == "missing_document":
            name = (error.get("message") or "").split(": ", 1)[-1]
            text = f"Thiếu giấy tờ bắt buộc: {name}"
        else:
            key = "documents" if api_field.startswith("documents") else api_field
            text = FIELD_MESSAGES.get((key, code)) or FIELD_MESSAGES.get((key, None)) or error.get("message") or "Không hợp lệ."
        messages = shown.setdefault(_form_field(api_field), [])
        if text not in messages:
            messages.append(text)
    return {name: " ".join(texts) for name, texts in shown.items()}


def receiving_units(officer_units: Iterable[str], catalogue_units: Iterable[Mapping[str, str]]) -> list[Mapping[str, str]]:
    """The units the officer may receive for, with their names; every unit when their token names none
    (the province administrator)."""
    units = list(catalogue_units)
    mine = list(officer_units)
    if not mine:
        return units
    names = {u["code"]: u["name"] for u in units}
    return [{"code": code, "name": names.get(code, code)} for code in mine]


# ---------------------------------------------------------------- the queue


@dataclass(frozen=True)
class QueueFilters:
    status: str = ""
    procedure_code: str = ""
    channel: str = ""
    received_from: str = ""  # yyyy-mm-dd, a day in Vietnam
    received_to: str = ""  # inclusive day
    overdue: bool = False
    q: str = ""

    @staticmethod
    def from_query(query: Mapping[str, str]) -> QueueFilters:
        return QueueFilters(
            status=query.get("status", "").strip(),
            procedure_code=query.get("procedure_code", "").strip(),
            channel=query.get("channel", "").strip(),
            received_from=query.get("received_from", "").strip(),
            received_to=query.get("received_to", "").strip(),
            overdue=query.get("overdue", "") in ("1", "true", "on"),
            q=query.get("q", "").strip(),
        )

    def api_params(self) -> tuple[dict[str, Any], dict[str, str]]:
        """Intake's search parameters (days as Vietnam midnights; the 'to' day included), and the
        filters that could not be read, by field."""
        params: dict[str, Any] = {"procedure_code": self.procedure_code, "q": self.q}
        errors: dict[str, str] = {}
        if self.status:
            if self.status.isdigit() and 1 <= int(self.status) <= 10:
                params["status"] = [int(self.status)]
            else:
                errors["status"] = "Trạng thái không hợp lệ."
        if self.channel:
            if self.channel in ("1", "2", "3"):
                params["channel"] = int(self.channel)
            else:
                errors["channel"] = "Hình thức nộp không hợp lệ."
        for name, value, shift in (("received_from", self.received_from, 0), ("received_to", self.received_to, 1)):
            if not value:
                continue
            try:
                day = date.fromisoformat(value)
            except ValueError:
                errors[name] = "Ngày không hợp lệ (dd/mm/yyyy)."
                continue
            params[name] = datetime.combine(day + timedelta(days=shift), time(), VN_TZ).isoformat()
        if self.overdue:
            params["overdue"] = "true"
        return params, errors

    def query_string(self, **extra: str) -> str:
        """The page's own query for a link (the next page keeps the filters)."""
        pairs = {
            "status": self.status,
            "procedure_code": self.procedure_code,
            "channel": self.channel,
            "received_from": self.received_from,
            "received_to": self.received_to,
            "overdue": "1" if self.overdue else "",
            "q": self.q,
            **extra,
        }
        return urlencode({k: v for k, v in pairs.items() if v})


# ---------------------------------------------------------------- the printable forms


def legal_date(moment: datetime | str | None, place: str = "") -> str:
    """'Phú Lộc, ngày 05 tháng 11 năm 2026' — the date line of an administrative form, in Vietnam
    time; without a place, the dotted space the officer writes it in."""
    if moment is None:
        moment = datetime.now(UTC)
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    day = moment.astimezone(VN_TZ) if moment.tzinfo else moment
    return f"{place or '……………'}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def lookup_link(public_url: str, code: str, secret: str) -> str:
    """The citizen's page for the dossier, as the receipt's QR code opens it."""
    return f"{public_url.rstrip('/')}/tra-cuu?{urlencode({'ma': code, 'ms': secret})}"


def _entries(dossier: Mapping[str, Any], kind: str) -> list[Mapping[str, Any]]:
    return [e for e in dossier.get("timeline", []) if e.get("kind") == kind]


def _by_name(entry: Mapping[str, Any] | None) -> str:
    by = (entry or {}).get("detail", {}).get("by") or {}
    return str(by.get("name") or "")


def supplement_form(dossier: Mapping[str, Any], applicant_name: str) -> dict[str, Any] | None:
    """Form 2 from the latest supplement request: every item asked, the reason, who asked and when;
    None when no supplement was ever requested."""
    supplements = dossier.get("supplements") or []
    if not supplements:
        return None
    latest = max(supplements, key=lambda s: s["requested_at"])
    asked = _entries(dossier, "supplement_requested")
    entry = max(asked, key=lambda e: e["at"]) if asked else None
    return {
        "dossier_code": dossier["code"],
        "applicant_name": applicant_name,
        "procedure_name": dossier["procedure_name"],
        "items": list(latest.get("items") or []),
        "reason": latest.get("reason"),
        "requested_at": latest["requested_at"],
        "requested_by": latest.get("requested_by"),
        "appointment_before": latest.get("appointment_before"),
        "officer": _by_name(entry) if latest.get("requested_by") == "counter" else "",
    }


def refusal_form(dossier: Mapping[str, Any], applicant_name: str) -> dict[str, Any] | None:
    """Form 3 of a dossier refused (its reason, who refused and when); None if it was not refused."""
    if int(dossier.get("status", 0)) != S.REFUSED:
        return None
    refused = _entries(dossier, "refused")
    entry = max(refused, key=lambda e: e["at"]) if refused else None
    reason = dossier.get("closing_reason") or ((entry or {}).get("detail") or {}).get("reason") or ""
    return {
        "dossier_code": dossier["code"],
        "applicant_name": applicant_name,
        "procedure_name": dossier["procedure_name"],
        "reason": reason,
        "refused_at": entry["at"] if entry else dossier.get("received_at"),
        "officer": _by_name(entry),
    }


def apology_form(clock: Mapping[str, Any] | None, dossier: Mapping[str, Any], applicant_name: str) -> dict[str, Any] | None:
    """Form 4 from the latest apology the deadline service issued when the dossier's appointment
    passed: the agency it is late at, the reason, the old and new appointment; None without one."""
    apologies = (clock or {}).get("apologies") or []
    if not apologies:
        return None
    latest = max(apologies, key=lambda a: a["issued_at"])
    return {
        "dossier_code": dossier["code"],
        "applicant_name": applicant_name,
        "procedure_name": dossier["procedure_name"],
        "received_on": format_date(dossier["received_at"]),
        "agency_name": latest.get("responsible_agency_name") or latest.get("responsible_agency_code") or "",
        "reason": latest["reason"],
        "old_appointment_at": latest["old_appointment_at"],
        "new_appointment_at": latest["new_appointment_at"],
        "issued_at": latest["issued_at"],
    }


OUTCOME_LABELS = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}
STEP_STATES = {
    "waiting": "Chờ bước trước",
    "assigned": "Đã chuyển, chờ tiếp nhận",
    "accepted": "Đang xử lý",
    "supplement": "Chờ bổ sung",
    "fee": "Chờ nộp phí",
    "stopped": "Dừng xử lý",
    "done": "Đã hoàn thành",
    "refused": "Từ chối",
    "cancelled": "Đã hủy",
}
HANDOVER_ACTIONS = {
    "assign": "Chuyển hồ sơ",
    "accept": "Tiếp nhận",
    "complete": "Hoàn thành, chuyển tiếp",
    "return": "Trả lại bước trước",
    "supplement": "Yêu cầu bổ sung",
    "supplement_received": "Nhận bổ sung",
    "fee": "Yêu cầu nộp phí",
    "fee_paid": "Đã nộp phí",
    "stop": "Dừng xử lý",
    "resume": "Tiếp tục xử lý",
    "refuse": "Từ chối",
    "transfer": "Chuyển cơ quan khác",
    "cancel": "Hủy",
}


def control_sheet(route: Mapping[str, Any], deadlines: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """Form 5, phiếu kiểm soát quá trình giải quyết hồ sơ: every handover in time order with who
    handed and what, and each step's agency, officer and outcome (early, on time, late) when closed."""
    due = {d.get("step_id"): d for d in deadlines if d.get("scope") != "dossier"}
    steps = [
        {
            "agency": s.get("agency_name") or s.get("agency_code"),
            "department": s.get("department"),
            "state": STEP_STATES.get(s.get("state", ""), s.get("state", "")),
            "officer": s.get("officer") or "",
            "assigned_at": s.get("assigned_at"),
            "completed_at": s.get("completed_at"),
            "due_at": (due.get(s.get("step_id")) or {}).get("due_at"),
            "outcome": OUTCOME_LABELS.get((due.get(s.get("step_id")) or {}).get("outcome") or "", ""),
        }
        for s in route.get("steps", [])
    ]
    handovers = [
        {
            "at": h["at"],
            "from": h.get("from_party") or "",
            "to": h.get("to_party") or "",
            "actor": h.get("actor") or "",
            "action": HANDOVER_ACTIONS.get(h.get("action", ""), h.get("action", "")),
            "note": h.get("note") or "",
        }
        for h in sorted(route.get("handovers", []), key=lambda h: h["at"])
    ]
    return {"dossier_code": route.get("dossier_code", ""), "steps": steps, "handovers": handovers}


# Notify names a notice by the event that caused it (`dossier.received`) or by its trigger's short name.
NOTICE_TRIGGERS = {
    "dossier.received": "Tiếp nhận và hẹn trả",
    "dossier.supplement_requested": "Yêu cầu bổ sung",
    "dossier.refused": "Từ chối tiếp nhận",
    "routing.fee_requested": "Yêu cầu nộp phí",
    "deadline.apology_issued": "Xin lỗi, hẹn lại",
    "routing.route_completed": "Có kết quả",
    "dossier.result_returned": "Đã trả kết quả",
    "deadline.warning": "Sắp đến hạn",
    "deadline.overdue": "Quá hạn",
    "received": "Tiếp nhận và hẹn trả",
    "supplement_requested": "Yêu cầu bổ sung",
    "refused": "Từ chối tiếp nhận",
    "fee_requested": "Yêu cầu nộp phí",
    "apology_issued": "Xin lỗi, hẹn lại",
    "result_ready": "Có kết quả",
    "result_returned": "Đã trả kết quả",
    "deadline_warning": "Sắp đến hạn",
    "deadline_overdue": "Quá hạn",
}
NOTICE_STATES = {
    "pending": "Đang chờ gửi",
    "held": "Chờ giờ gửi",
    "sent": "Đã gửi",
    "delivered": "Đã đến người nhận",
    "failed": "Gửi không được",
    "suppressed": "Không gửi (theo lựa chọn của công dân)",
}
