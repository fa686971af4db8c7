"""The agency officer's pages as rules (pure): what each step state is called, which actions a
step's state allows (the same table as routing's `routing.domain.steps`, which enforces it; the
console only offers what would succeed), the fields of each action's form and the body it posts,
when a row of the inbox is late or about to be, and the messages shown after an action.

Every text is Vietnamese; the pages translate it (`web/i18n/agency.json`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

# A step "about to be late" (sắp đến hạn): due within this many working hours.
AT_RISK_WORKING_HOURS = 4.0

STATE_LABELS: dict[str, str] = {
    "waiting": "Chờ bước trước",
    "assigned": "Mới chuyển đến",
    "accepted": "Đang xử lý",
    "supplement": "Chờ công dân bổ sung",
    "fee": "Chờ thực hiện nghĩa vụ tài chính",
    "stopped": "Tạm dừng xử lý",
    "done": "Đã xử lý xong",
    "refused": "Đã từ chối",
    "cancelled": "Đã hủy",
}
OPEN_STATES = ("assigned", "accepted", "supplement", "fee", "stopped")
# While the agency waits for the citizen or has stopped, the clock is paused (statuses 5, 6, 8):
# routing's due time of the step does not count the pause, so these rows are not marked late.
PAUSED_STATES = frozenset({"supplement", "fee", "stopped"})
WORKING_STATES = frozenset({"assigned", "accepted"})


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


FieldKind = Literal["text", "textarea", "lines", "amount", "agency"]


@dataclass(frozen=True)
class FormField:
    name: str  # the form's field and the API body's member
    label: str
    kind: FieldKind = "text"
    required: bool = False
    hint: str | None = None


@dataclass(frozen=True)
class StepAction:
    key: str  # the last segment of routing's path: /agency/steps/{d}/{s}/<key>
    label: str
    done: str  # the flash message once it succeeded
    fields: tuple[FormField, ...]
    states: frozenset[str]  # the step states it is legal from (routing's table)
    danger: bool = False
    needs_previous: bool = False  # only a step with a previous step can be returned


NOTE = FormField("note", "Ghi chú", "textarea")
REASON = FormField("reason", "Lý do", "textarea", required=True)

ACTIONS: tuple[StepAction, ...] = (
    StepAction("accept", "Tiếp nhận", "Đã tiếp nhận bước xử lý.", (NOTE,), frozenset({"assigned"})),
    StepAction(
        "complete",
        "Hoàn thành, chuyển kết quả",
        "Đã hoàn thành bước xử lý; hồ sơ được chuyển tiếp.",
        (
            FormField(
                "result_documents",
                "Giấy tờ kết quả",
                "lines",
                hint="Mỗi dòng một giấy tờ: tên hoặc số hiệu (ví dụ: Trích lục khai sinh số 123/2026).",
            ),
            NOTE,
        ),
        WORKING_STATES,
    ),
    StepAction(
        "supplement",
        "Yêu cầu bổ sung hồ sơ",
        "Đã gửi yêu cầu bổ sung; thời gian giải quyết tạm dừng.",
        (
            FormField(
                "items",
                "Các giấy tờ cần bổ sung",
                "lines",
                required=True,
                hint="Mỗi dòng một giấy tờ; ghi đủ tất cả trong một lần.",
            ),
            FormField("reason", "Lý do", "textarea"),
        ),
        WORKING_STATES,
    ),
    StepAction(
        "fee",
        "Thông báo nghĩa vụ tài chính",
        "Đã thông báo nghĩa vụ tài chính; thời gian giải quyết tạm dừng.",
        (
            FormField("amount_vnd", "Số tiền (đồng)", "amount", required=True),
            FormField("description", "Nội dung (phí, lệ phí, thuế)", required=True),
        ),
        WORKING_STATES,
    ),
    StepAction(
        "fee-payment",
        "Ghi nhận đã nộp phí",
        "Đã ghi nhận việc nộp phí; tiếp tục xử lý.",
        (
            FormField("amount_vnd", "Số tiền đã nộp (đồng)", "amount", required=True),
            FormField("receipt_ref", "Số biên lai"),
        ),
        frozenset({"fee"}),
    ),
    StepAction(
        "stop",
        "Dừng xử lý",
        "Đã dừng xử lý; thời gian giải quyết tạm dừng.",
        (REASON,),
        WORKING_STATES,
        danger=True,
    ),
    StepAction("resume", "Tiếp tục xử lý", "Đã tiếp tục xử lý hồ sơ.", (NOTE,), frozenset({"stopped"})),
    StepAction(
        "return",
        "Trả lại bước trước",
        "Đã trả hồ sơ về bước trước.",
        (REASON,),
        WORKING_STATES,
        needs_previous=True,
    ),
    StepAction(
        "transfer",
        "Chuyển cơ quan có thẩm quyền",
        "Đã chuyển bước xử lý sang cơ quan có thẩm quyền.",
        (FormField("to_agency_code", "Chuyển đến cơ quan", "agency", required=True), REASON),
        WORKING_STATES,
    ),
    StepAction(
        "refuse",
        "Từ chối giải quyết",
        "Đã từ chối giải quyết hồ sơ.",
        (
            FormField(
                "reason",
                "Căn cứ pháp lý và lý do từ chối",
                "textarea",
                required=True,
                hint="Ví dụ: Không thuộc trường hợp đăng ký thường trú (Điều 20 Luật Cư trú 2020).",
            ),
        ),
        WORKING_STATES | {"supplement", "stopped"},
        danger=True,
    ),
)
BY_KEY: dict[str, StepAction] = {a.key: a for a in ACTIONS}


def actions_for(state: str, *, has_previous: bool) -> list[StepAction]:
    """The actions a step in `state` allows, in the order the page offers them."""
    return [a for a in ACTIONS if state in a.states and (has_previous or not a.needs_previous)]


def lines(text: str | None) -> list[str]:
    """A text area of one item per line: the lines with something on them, trimmed."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def body_for(action: StepAction, form: Mapping[str, str]) -> dict[str, Any]:
    """What routing's endpoint takes, from the form as typed: empty optional fields are left out
    (an empty required one too, so the API names it as missing); numbers go as typed, for the API
    to check and name the field if they are not."""
    body: dict[str, Any] = {}
    for f in action.fields:
        raw = (form.get(f.name) or "").strip()
        if f.kind == "lines":
            items = lines(raw)
            if items or f.required:
                body[f.name] = items
        elif f.kind == "amount":
            if raw:
                body[f.name] = raw.replace(".", "").replace(",", "").replace(" ", "")
        elif raw:
            body[f.name] = raw
    return body


# What a field error's code means, said to the officer (the API's own message otherwise).
ERROR_MESSAGES: dict[str, str] = {
    "missing": "Chưa nhập thông tin này.",
    "string_too_short": "Chưa nhập thông tin này.",
    "too_short": "Cần ít nhất một mục.",
    "int_parsing": "Hãy nhập số tiền bằng chữ số (đồng).",
    "int_type": "Hãy nhập số tiền bằng chữ số (đồng).",
    "greater_than_equal": "Số tiền không được âm.",
    "string_too_long": "Nội dung quá dài.",
}


def field_errors(errors: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """The API's field errors keyed by the form's field (`items.0` is the `items` box), first one each."""
    shown: dict[str, str] = {}
    for error in errors:
        name = str(error.get("field", "")).split(".")[0]
        if name and name not in shown:
            shown[name] = ERROR_MESSAGES.get(str(error.get("code", "")), str(error.get("message", "")))
    return shown


Urgency = Literal["overdue", "at-risk", ""]


def urgency(state: str, due_at: datetime | None, now: datetime, working_hours_left: float | None) -> Urgency:
    """`overdue` once a step being worked on is past its due time; `at-risk` when it is due within
    AT_RISK_WORKING_HOURS working hours; nothing for steps done, paused or not yet assigned."""
    if state not in WORKING_STATES or due_at is None:
        return ""
    if due_at <= now:
        return "overdue"
    if working_hours_left is not None and working_hours_left <= AT_RISK_WORKING_HOURS:
        return "at-risk"
    return ""


URGENCY_LABELS: dict[str, str] = {"overdue": "Quá hạn", "at-risk": "Sắp đến hạn"}

# The control sheet's actions (Phiếu kiểm soát quá trình giải quyết hồ sơ), as routing records them.
HANDOVER_LABELS: dict[str, str] = {
    "assign": "Chuyển đến",
    "accept": "Tiếp nhận",
    "complete": "Hoàn thành",
    "return": "Trả lại bước trước",
    "supplement": "Yêu cầu bổ sung",
    "supplement_received": "Đã nhận bổ sung",
    "fee": "Thông báo nghĩa vụ tài chính",
    "fee_paid": "Đã nộp phí",
    "stop": "Dừng xử lý",
    "resume": "Tiếp tục xử lý",
    "refuse": "Từ chối",
    "transfer": "Chuyển cơ quan",
    "cancel": "Hủy",
}


def handover_label(action: str) -> str:
    return HANDOVER_LABELS.get(action, action)
