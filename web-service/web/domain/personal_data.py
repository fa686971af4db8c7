"""The operator's page for a citizen's personal-data requests (Decree 13/2023), its rules without
I/O: the form and what it must hold, the words for kinds, services and data classes, and a
request shown per dossier with each service's answer and what it held."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.vocabulary import CITIZEN_ID

KINDS = {"export": "Trích xuất dữ liệu", "erasure": "Xoá dữ liệu"}
SERVICES = {
    "intake": "Tiếp nhận hồ sơ",
    "routing": "Luân chuyển liên thông",
    "deadline": "Theo dõi thời hạn",
    "notify": "Thông báo cho công dân",
}
DATA_CLASSES = {
    "applicant": "Người nộp hồ sơ",
    "receipt_answers": "Phản hồi tiếp nhận đã lưu",
    "applicant_name": "Tên chủ hồ sơ gửi Cổng dịch vụ công",
    "contacts": "Thông tin liên lạc nhận thông báo",
    "notices": "Thông báo",
}
FIELDS = {
    "name": "Họ và tên",
    "applicant_name": "Họ và tên",
    "citizen_id": "Số định danh cá nhân",
    "tax_code": "Mã số thuế",
    "phone": "Số điện thoại",
    "email": "Thư điện tử",
    "address": "Địa chỉ",
    "dossier_code": "Mã hồ sơ",
    "procedure_code": "Mã thủ tục",
    "procedure_name": "Tên thủ tục",
    "received_at": "Thời điểm tiếp nhận",
    "receiving_unit": "Đơn vị tiếp nhận",
    "kind": "Loại người nộp",
    "notify_channels": "Kênh nhận thông báo",
    "channels": "Kênh nhận thông báo",
    "language": "Ngôn ngữ",
    "opt_out_non_essential": "Từ chối thông báo không bắt buộc",
    "result_delivery": "Hình thức nhận kết quả",
    "purpose": "Mục đích",
    "phase": "Giai đoạn",
    "id": "Mã bản ghi",
    "trigger": "Sự kiện",
    "channel": "Kênh",
    "recipient": "Người nhận",
    "recipient_masked": "Người nhận (che bớt)",
    "subject": "Tiêu đề",
    "body": "Nội dung",
    "attachment_name": "Tệp đính kèm",
    "status": "Trạng thái",
    "attempts": "Số lần gửi",
    "last_error": "Lỗi gần nhất",
    "created_at": "Thời điểm tạo",
    "sent_at": "Thời điểm gửi",
    "delivered_at": "Thời điểm đến nơi",
    "failed_at": "Thời điểm gửi thất bại",
    "ended_at": "Thời điểm kết thúc",
    "erased_at": "Thời điểm xoá",
}
YES, NO, NOTHING = "Có", "Không", "—"
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)$")
CITIZEN_ID_MISSING = "Cần số định danh cá nhân (12 chữ số) của công dân."
CITIZEN_ID_INVALID = "Số định danh cá nhân gồm đúng 12 chữ số."
KIND_INVALID = "Chọn trích xuất hay xoá dữ liệu."
NOT_CONFIRMED = "Xoá dữ liệu không hoàn tác được: hãy đánh dấu xác nhận trước khi gửi."
MESSAGES = (CITIZEN_ID_MISSING, CITIZEN_ID_INVALID, KIND_INVALID, NOT_CONFIRMED)
SENT = "Đã gửi yêu cầu. Các cơ quan trả lời trong giây lát; trang tự tải lại đến khi đủ."
WAITING = "Chưa trả lời"
UNAVAILABLE = "Không kết nối được"


@dataclass(frozen=True)
class RequestForm:
    """What the operator typed. The citizen id is never put back in a link or a page once sent."""

    citizen_id: str = ""
    kind: str = "export"
    confirmed: bool = False

    @staticmethod
    def from_form(values: Mapping[str, str]) -> RequestForm:
        return RequestForm(
            citizen_id=re.sub(r"\s+", "", values.get("citizen_id", "")),
            kind=values.get("kind", "").strip(),
            confirmed=values.get("confirmed") == "yes",
        )

    def errors(self) -> dict[str, str]:
        """Each field's message; empty when the request may be sent."""
        errors: dict[str, str] = {}
        if not self.citizen_id:
            errors["citizen_id"] = CITIZEN_ID_MISSING
        elif not CITIZEN_ID.match(self.citizen_id):
            errors["citizen_id"] = CITIZEN_ID_INVALID
        if self.kind not in KINDS:
            errors["kind"] = KIND_INVALID
        elif self.kind == "erasure" and not self.confirmed:
            errors["confirmed"] = NOT_CONFIRMED
        return errors


@dataclass(frozen=True)
class Value:
    """A held value as the page shows it: `text` as it is, an `instant` in Vietnam time, or a `word`
    the page translates (yes, no, none)."""

    text: str
    kind: str = "text"


@dataclass(frozen=True)
class Record:
    """One record a service held, as (label, value) pairs."""

    fields: list[tuple[str, Value]]


@dataclass(frozen=True)
class HeldClass:
    service: str
    data_class: str
    label: str
    records: list[Record]


@dataclass
class DossierRow:
    dossier_id: str
    code: str
    answers: dict[str, str]  # service → its count, "Chưa trả lời" or "Không kết nối được"
    held: list[HeldClass] = field(default_factory=list)


@dataclass
class RequestView:
    request: Mapping[str, Any]
    rows: list[DossierRow]
    kept: list[Mapping[str, Any]]
    unavailable: list[str]

    @property
    def complete(self) -> bool:
        return bool(self.request.get("complete")) and not self.unavailable


def shown(value: Any) -> Value:
    if value is None or value == "":
        return Value(NOTHING, "word")
    if isinstance(value, bool):
        return Value(YES if value else NO, "word")
    if isinstance(value, list | dict):
        return Value(json.dumps(value, ensure_ascii=False))
    if isinstance(value, str) and INSTANT.match(value):
        return Value(value, "instant")
    return Value(str(value))


def _records(records: Sequence[Mapping[str, Any]]) -> list[Record]:
    return [
        Record([(FIELDS.get(k, k), shown(v)) for k, v in record.items()]) for record in records if isinstance(record, Mapping)
    ]


def _held_classes(service: str, held: Mapping[str, Any]) -> list[HeldClass]:
    return [
        HeldClass(service, data_class, DATA_CLASSES.get(data_class, data_class), _records(records))
        for data_class, records in held.items()
        if records
    ]


Parts = Mapping[str, Sequence[Mapping[str, Any]] | None]  # service → its parts; None when it did not answer


def held_by_dossier(request: Mapping[str, Any], parts: Parts) -> dict[str, dict[str, Mapping[str, Any]]]:
    """What each service held per dossier of the request: intake's own part (in the request) and
    each other service's parts, `{dossier_id: {service: {data_class: records}}}`, empty parts left out."""
    held: dict[str, dict[str, Mapping[str, Any]]] = {d: {} for d in request.get("dossiers") or []}
    given = [("intake", dossier_id, part) for dossier_id, part in (request.get("held") or {}).items()]
    given += [(service, p["dossier_id"], p.get("held")) for service, ps in parts.items() for p in ps or []]
    for service, dossier_id, part in given:
        if dossier_id in held and part:
            held[dossier_id][service] = part
    return held


def request_view(request: Mapping[str, Any], parts: Parts) -> RequestView:
    """The request from intake with the parts routing, deadline and notify say they held, as one row
    per dossier."""
    codes: Mapping[str, str] = request.get("codes") or {}
    answers: Mapping[str, Mapping[str, int]] = request.get("answers") or {}
    unavailable = sorted(name for name, part in parts.items() if part is None)
    rows = []
    for dossier_id, by_service in held_by_dossier(request, parts).items():
        given = answers.get(dossier_id, {})
        counts = {
            service: str(given[service]) if service in given else (UNAVAILABLE if service in unavailable else WAITING)
            for service in SERVICES
        }
        classes = [c for service, held in by_service.items() for c in _held_classes(service, held)]
        rows.append(DossierRow(dossier_id, codes.get(dossier_id, dossier_id), counts, classes))
    return RequestView(request, rows, list(request.get("kept") or []), unavailable)


def export_document(request: Mapping[str, Any], parts: Parts) -> dict[str, Any]:
    """The export as the citizen is given it: per dossier, what each service held, by data class."""
    codes: Mapping[str, str] = request.get("codes") or {}
    return {
        "request_id": request["id"],
        "requested_at": request["requested_at"],
        "complete": bool(request.get("complete")) and all(p is not None for p in parts.values()),
        "dossiers": [{"dossier_code": codes.get(d, ""), "held": held} for d, held in held_by_dossier(request, parts).items()],
    }
