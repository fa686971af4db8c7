"""Request and response bodies of intake's API (what the use cases take and give back)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from intake.domain.catalogue import Unit
from services.events import Actor
from services.vocabulary import CITIZEN_ID

CitizenId = Annotated[str, StringConstraints(pattern=CITIZEN_ID.pattern)]
VnMobile = Annotated[str, StringConstraints(pattern=r"^(0|\+84)(3|5|7|8|9)\d{8}$")]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
TaxCode = Annotated[str, StringConstraints(pattern=r"^\d{10}(-\d{3})?$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Item = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
ReturnMethod = Literal["counter", "post", "online"]


class ApplicantIn(BaseModel):
    """Người nộp hồ sơ. The citizen id stays in intake: it never travels in an event."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["citizen", "business"] = Field(
        "citizen", description="A person, or a business (household business, enterprise)."
    )
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    citizen_id: CitizenId | None = Field(None, description="Số định danh cá nhân, 12 digits.")
    tax_code: TaxCode | None = Field(
        None, description="Mã số thuế (10 digits, or 13 with a branch suffix `-NNN`); required for businesses."
    )
    phone: VnMobile | None = Field(None, description="Vietnamese mobile number, e.g. 0912345678.")
    email: Email | None = None
    notify_channels: list[Literal["sms", "email"]] = Field(default_factory=list)
    language: Literal["vi", "en"] = Field("vi", description="The language of the applicant's notices: Vietnamese or English.")
    opt_out_non_essential: bool = Field(False, description="Only the notices the law requires.")


class DocumentIn(BaseModel):
    """One item handed in (thành phần hồ sơ), by its code in the procedure."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64)
    originals: int = Field(1, ge=0)
    copies: int = Field(0, ge=0)


BIRTH_EXAMPLE = {
    "procedure_code": "1.001193",
    "channel": 1,
    "documents": [{"code": "birth-certificate"}, {"code": "interlinked-form"}],
    "applicant": {"name": "Nguyễn Văn An", "citizen_id": "079123456789", "phone": "0912345678", "notify_channels": ["sms"]},
}


class DossierCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [BIRTH_EXAMPLE]})

    procedure_code: str = Field(min_length=1, max_length=64)
    channel: Literal[1, 2, 3] = Field(description="1 counter, 2 online, 3 public postal service.")
    receiving_unit: str | None = Field(
        None, max_length=64, description="Unit code from the catalogue; the catalogue's first unit when omitted."
    )
    documents: list[DocumentIn] = Field(
        default_factory=list, description="Every item handed in; each required item of the procedure must be here."
    )
    result_delivery: ReturnMethod = Field("counter", description="Where the citizen wants the result: counter, post or online.")
    applicant: ApplicantIn


class TimelineEntry(BaseModel):
    at: datetime
    kind: str
    label: str
    detail: dict[str, object]


class SupplementPublic(BaseModel):
    requested_by: str
    step_id: str | None
    items: list[str]
    reason: str | None
    requested_at: datetime
    appointment_before: datetime = Field(description="NgayHenTraTruoc: the appointment when the supplement was requested.")
    appointment_after: datetime | None = Field(None, description="NgayHenTraMoi: the appointment once the clock resumed.")
    received_at: datetime | None
    received_items: list[str] | None


class DossierPublic(BaseModel):
    id: UUID
    code: str
    procedure_code: str
    procedure_name: str
    field_code: str
    catalogue_version: str
    receiving_unit: str
    channel: int
    status: int = Field(description="National portal status code (1–10).")
    status_label: str
    received_at: datetime
    appointment_at: datetime
    overdue: bool = False
    current_agency: str | None = None
    lookup_secret: str | None = Field(
        None, description="Mã tra cứu printed on the receipt; only in the answer to the receipt itself."
    )
    returned_at: datetime | None = None
    return_method: str | None = None
    rating: int | None = None
    closing_reason: str | None = None
    received_by: Actor | None = Field(
        None, description="Người tiếp nhận: the officer who received it, or the portal or LGSP that filed it online."
    )
    supplements: list[SupplementPublic] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)


class ReceiptDocument(BaseModel):
    name: str
    originals: int
    copies: int


class ReceiptFee(BaseModel):
    name: str
    amount_vnd: int | None


class Receipt(BaseModel):
    """Giấy tiếp nhận hồ sơ và hẹn trả kết quả (form 1)."""

    form: Literal["01"] = "01"
    dossier_code: str
    lookup_secret: str
    unit_code: str
    unit_name: str
    applicant_name: str
    applicant_phone: str | None
    applicant_email: str | None
    procedure_code: str
    procedure_name: str
    field_name: str
    channel: int
    channel_label: str
    documents: list[ReceiptDocument]
    fees: list[ReceiptFee]
    received_at: datetime
    appointment_at: datetime
    received_at_local: str = Field(description="`HH:MM DD/MM/YYYY`, Vietnam time.")
    appointment_at_local: str
    return_place: str
    lookup_url: str
    catalogue_version: str
    received_by: str | None = Field(
        None, description="Người tiếp nhận: the receiving officer's name (the portal's or LGSP's for a dossier filed online)."
    )


class SupplementRequestIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": ["Giấy chứng sinh (bản chính)", "Tờ khai ký đủ chữ ký của người đi đăng ký"],
                    "reason": "Thiếu giấy chứng sinh",
                }
            ]
        },
    )

    items: list[Item] = Field(min_length=1, description="Every missing or incomplete item, all at once.")
    reason: Text | None = None

    @model_validator(mode="after")
    def _distinct(self) -> SupplementRequestIn:
        if len(set(self.items)) != len(self.items):
            raise ValueError("items repeat")
        return self


class SupplementRequestForm(BaseModel):
    """Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (form 2)."""

    form: Literal["02"] = "02"
    dossier_code: str
    applicant_name: str
    procedure_name: str
    requested_by: str
    officer: str = Field(description="Người tiếp nhận: the counter officer who asked, as the form is signed.")
    items: list[str]
    reason: str | None
    requested_at: datetime
    appointment_before: datetime
    status: int
    status_label: str


class SupplementIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"items": ["Giấy chứng sinh (bản chính)"]}]})

    items: list[Item] = Field(min_length=1, description="What the citizen handed in.")


class RefusalIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "Hồ sơ không thuộc thẩm quyền giải quyết của UBND xã"}]}
    )

    reason: Text


class RefusalForm(BaseModel):
    """Phiếu từ chối tiếp nhận giải quyết hồ sơ (form 3)."""

    form: Literal["03"] = "03"
    dossier_code: str
    applicant_name: str
    procedure_name: str
    reason: str
    officer: str = Field(description="Người tiếp nhận: the counter officer who refused, as the form is signed.")
    refused_at: datetime
    status: int
    status_label: str


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "Công dân đề nghị rút hồ sơ để bổ sung giấy tờ"}]}
    )

    reason: Text | None = None


class ResultReturnIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"method": "counter"}, {"method": "post", "returned_at": "2026-11-25T09:30:00+07:00"}]},
    )

    method: ReturnMethod
    returned_at: datetime | None = Field(
        None, description="When the result was handed over; now when omitted. Must carry an offset."
    )

    @model_validator(mode="after")
    def _aware(self) -> ResultReturnIn:
        if self.returned_at is not None and self.returned_at.tzinfo is None:
            raise ValueError("returned_at needs a UTC offset")
        return self


class RatingIn(BaseModel):
    """The citizen's rating, with the dossier code and the secret printed on the receipt."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"code": "000.00.00.H30-261122-0001", "secret": "7KQ2MZ4P", "score": 5, "comment": "Cán bộ hướng dẫn tận tình"}
            ]
        },
    )

    code: str = Field(min_length=1, max_length=64, description="Mã số hồ sơ.")
    secret: str = Field(min_length=1, max_length=32, description="Mã tra cứu printed on the receipt.")
    score: int = Field(ge=1, le=5, description="1 very dissatisfied … 5 very satisfied.")
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None


class RatingPublic(BaseModel):
    """What the citizen sees once their rating is recorded."""

    code: str
    score: int
    comment: str | None
    rated_at: datetime


class LookupIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"code": "000.00.00.H30-261122-0001", "secret": "7KQ2MZ4P"}]}
    )

    code: str = Field(min_length=1, max_length=64, description="Mã số hồ sơ.")
    secret: str = Field(min_length=1, max_length=32, description="Mã tra cứu printed on the receipt.")


class LookupEntry(BaseModel):
    at: datetime
    at_local: str = Field(description="`at` in Vietnam time, ISO 8601 with +07:00.")
    label: str


class LookupResult(BaseModel):
    """Tra cứu hồ sơ: what a citizen may see, with no personal data beyond the masked name."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "000.00.00.H30-261122-0001",
                    "procedure_name": "Cấp bản sao trích lục hộ tịch",
                    "applicant": "N***** V** A*",
                    "status": 4,
                    "status_label": "Đang giải quyết",
                    "received_at": "2026-11-22T02:10:00Z",
                    "received_local": "2026-11-22T09:10:00+07:00",
                    "received_text": "09:10 ngày 22/11/2026",
                    "appointment_at": "2026-11-23T09:10:00Z",
                    "appointment_local": "2026-11-23T16:10:00+07:00",
                    "appointment_text": "16:10 ngày 23/11/2026",
                    "returned_at": None,
                    "returned_local": None,
                    "returned_text": None,
                    "timeline": [
                        {"at": "2026-11-22T02:10:00Z", "at_local": "2026-11-22T09:10:00+07:00", "label": "Đã tiếp nhận"},
                        {
                            "at": "2026-11-22T02:10:02Z",
                            "at_local": "2026-11-22T09:10:02+07:00",
                            "label": "Chuyển đến UBND xã (hộ tịch)",
                        },
                    ],
                }
            ]
        }
    )

    code: str
    procedure_name: str
    applicant: str = Field(description="Masked name.")
    status: int
    status_label: str
    received_at: datetime
    received_local: str = Field(description="`received_at` in Vietnam time (Asia/Ho_Chi_Minh), ISO 8601 with +07:00.")
    received_text: str = Field(description="`received_at` as the citizen reads it: `09:10 ngày 22/11/2026`.")
    appointment_at: datetime = Field(description="Ngày hẹn trả kết quả, UTC.")
    appointment_local: str = Field(description="`appointment_at` in Vietnam time, ISO 8601 with +07:00.")
    appointment_text: str = Field(description="`appointment_at` as the citizen reads it: `16:30 ngày 05/12/2026`.")
    returned_at: datetime | None
    returned_local: str | None = None
    returned_text: str | None = None
    missing_items: list[str] = Field(
        default_factory=list, description="While a supplement is asked (status 5): every item of the latest request."
    )
    rated: bool = Field(False, description="The citizen has rated the handling of the dossier (once only).")
    timeline: list[LookupEntry]


class DossierSummary(BaseModel):
    id: UUID
    code: str
    procedure_code: str
    field_code: str
    agency_code: str
    current_agency_code: str | None
    channel: int
    status: int
    status_label: str
    applicant_name: str
    received_at: datetime
    appointment_at: datetime
    overdue: bool


class SearchCounts(BaseModel):
    total: int
    by_status: dict[str, int]
    overdue: int


class SearchPage(BaseModel):
    items: list[DossierSummary]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; absent on the last page.")
    counts: SearchCounts


class ProcedureSummary(BaseModel):
    code: str
    name: str
    field: str
    field_name: str
    level: str
    competent_agency: str
    budget_hours: float
    fully_online: bool
    channels: list[int]


class CataloguePublic(BaseModel):
    version: str
    published_on: str | None
    units: list[Unit]
    procedures: list[ProcedureSummary]


class LgspDossierAnswer(BaseModel):
    request_id: str = Field(description="The caller's X-Request-ID, echoed.")
    id: UUID
    code: str = Field(description="Số hồ sơ, `<unit>-YYMMDD-XXXX`.")
    status: int = Field(description="National portal status code (1–10).")
    appointment_at: datetime = Field(description="Ngày hẹn trả kết quả.")
    lookup_secret: str = Field(
        description="Mã tra cứu: with the code, what the citizen looks the dossier up with; the system that filed it "
        "gives it to the citizen (the notice of receipt carries it too)."
    )
    replayed: bool = Field(False, description="True when this delivery was received before (same nonce, same body).")


# ---------------------------------------------------------------- a citizen's personal data (Decree 13/2023)


class PersonalDataRequestCreate(BaseModel):
    citizen_id: str = Field(max_length=20, description="Số định danh cá nhân (CCCD), 12 digits. Only its blind index is kept.")
    kind: Literal["export", "erasure"] = Field(description="Export everything held about the citizen, or erase it.")

    model_config = ConfigDict(json_schema_extra={"examples": [{"citizen_id": "079190001234", "kind": "export"}]})


class KeptDossier(BaseModel):
    dossier_id: str
    code: str
    reason: str = Field(description="Why it was not erased: the procedure has not ended.")


class PersonalDataRequestSummary(BaseModel):
    """A request as listed: what was asked, when and by whom; never the citizen it was about."""

    id: str
    kind: Literal["export", "erasure"]
    requested_at: datetime
    requested_by: str | None = None
    dossiers: int = Field(description="How many of the citizen's dossiers were acted on.")
    kept: int = Field(description="How many were kept (still in progress).")
    complete: bool


class PersonalDataRequestPublic(BaseModel):
    id: str = Field(description="`pdr-<hex>`.")
    kind: Literal["export", "erasure"]
    requested_at: datetime
    requested_by: str | None = Field(None, description="The operator who asked.")
    dossiers: list[str] = Field(description="The citizen's dossiers acted on (each sent `personal_data.requested`).")
    codes: dict[str, str] = Field(default_factory=dict, description="Each dossier's code (mã hồ sơ), by id, kept ones too.")
    kept: list[KeptDossier] = Field(description="Dossiers not erased (still in progress), with the reason.")
    answers: dict[str, dict[str, int]] = Field(
        description="Per dossier, the services that did their part and how many records they exported or erased."
    )
    complete: bool = Field(description="Routing, deadline and notify have answered for every dossier.")
    held: dict[str, dict[str, list[dict[str, Any]]]] = Field(
        default_factory=dict, description="Intake's own part of an export, per dossier, by data class (opened)."
    )
