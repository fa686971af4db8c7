"""Request and response bodies of routing's API (what the use cases take and give back): the
agencies' inbox and step actions (the officer acting is the caller, from their token, never a
field of the body), the LGSP's signed step results, a dossier's route and
control sheet (form 5), and the operator's views of deliveries, portal pushes and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

# ---------------------------------------------------------------- agencies


class AgencyStep(BaseModel):
    dossier_id: UUID
    dossier_code: str
    procedure_code: str
    procedure_name: str
    step_id: str
    agency_code: str
    department: str | None
    state: str
    officer: str | None = Field(description="Who took the step on (their display name), once someone did.")
    officer_subject: str | None = Field(None, description="Their subject in the identity provider, when they signed in there.")
    budget_hours: float
    assigned_at: datetime | None
    due_at: datetime | None = Field(
        description="The step's budget in working time from assignment (pauses are the deadline service's to count)."
    )
    completed_at: datetime | None
    result_documents: list[str]
    note: str | None


class Inbox(BaseModel):
    items: list[AgencyStep]
    total: int
    page: int
    page_size: int


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AcceptBody(_Body):
    note: str | None = None
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"note": "Đã nhận đủ hồ sơ"}]})


class CompleteBody(_Body):
    result_documents: list[str] = Field(
        default_factory=list, description="References to result documents, e.g. `doc://birth-cert/123`."
    )
    note: str | None = None
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "result_documents": ["doc://trich-luc-khai-sinh/2026-1183"],
                    "note": "Đã đăng ký khai sinh",
                }
            ]
        },
    )


class ReturnBody(_Body):
    reason: str = Field(min_length=1)
    to_step_id: str | None = Field(None, description="Default: the last previous step.")
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "Trích lục sai năm sinh của mẹ"}]})


class SupplementBody(_Body):
    items: list[str] = Field(min_length=1, description="Every missing or incomplete item (Phiếu yêu cầu bổ sung).")
    reason: str | None = None
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"items": ["Bản sao giấy chứng nhận kết hôn"]}]})


class FeeBody(_Body):
    amount_vnd: int = Field(ge=0)
    description: str = Field(min_length=1)
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"amount_vnd": 500000, "description": "Lệ phí trước bạ"}]},
    )


class FeePaymentBody(_Body):
    amount_vnd: int = Field(ge=0)
    receipt_ref: str | None = None
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"amount_vnd": 500000, "receipt_ref": "BL-2026-0042"}]},
    )


class ReasonBody(_Body):
    reason: str = Field(min_length=1, description="The reason; for a refusal, the legal ground.")
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "Không thuộc trường hợp đăng ký thường trú (Điều 20 Luật Cư trú 2020)"}]},
    )


class ResumeBody(_Body):
    note: str | None = None
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"note": "Đã có kết quả xác minh"}]})


class TransferBody(_Body):
    to_agency_code: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"to_agency_code": "BHXH", "reason": "Không thuộc thẩm quyền"}]},
    )


# ---------------------------------------------------------------- the LGSP


class StepResultIn(BaseModel):
    """What an agency's system reports about one of its steps."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "request_id": "ca-xa-2026-000183",
                    "dossier_id": "6f1c9a52-3c1e-4c59-9d0e-2f7b1a0c4e11",
                    "step_id": "residence",
                    "action": "complete",
                    "officer": "Đại úy Phạm Minh",
                    "result_documents": ["doc://cu-tru/2026-183"],
                }
            ]
        },
    )

    request_id: str = Field(min_length=1, max_length=128, description="The sender's id; echoed in the answer.")
    dossier_id: UUID
    step_id: str = Field(min_length=1, max_length=64)
    action: Literal["accept", "complete", "return", "supplement", "refuse"]
    officer: str = Field(min_length=1, max_length=200, description="The agency's officer who acted, as its system names them.")
    result_documents: list[str] = Field(default_factory=list)
    note: str | None = None
    reason: str | None = None
    items: list[str] = Field(default_factory=list)
    to_step_id: str | None = None


class StepResultAnswer(BaseModel):
    request_id: str
    status: Literal[1] = 1
    step: AgencyStep


# ---------------------------------------------------------------- a dossier's route


class StepPublic(BaseModel):
    step_id: str
    agency_code: str
    agency_name: str
    department: str | None
    budget_hours: float
    after: list[str]
    state: str
    officer: str | None
    officer_subject: str | None = None
    assigned_at: datetime | None
    completed_at: datetime | None
    result_documents: list[str]


class HandoverPublic(BaseModel):
    step_id: str
    from_party: str
    to_party: str
    at: datetime
    actor: str = Field(description="Who acted: the officer (display name), an agency's system, or routing itself.")
    actor_subject: str | None = Field(None, description="The actor's subject in the identity provider, when signed in there.")
    action: str
    note: str | None


class RoutePublic(BaseModel):
    dossier_id: UUID
    dossier_code: str
    receiving_unit: str | None = Field(
        description="The unit whose counter received it (unknown for dossiers routed before it was kept)."
    )
    phase: str
    national_status: int
    steps: list[StepPublic]
    handovers: list[HandoverPublic]


# ---------------------------------------------------------------- operations


class DeliveryPublic(BaseModel):
    id: int
    request_id: UUID
    dossier_id: UUID
    step_id: str
    agency_code: str
    endpoint: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None


class PortalPushPublic(BaseModel):
    id: int
    dossier_id: UUID
    status_code: int
    state: str
    attempts: int
    last_error: str | None
    pushed_at: datetime | None
    payload: dict[str, Any]


class AuditRecord(BaseModel):
    id: int
    at: datetime
    entry: dict[str, Any]
    prev_hash: str
    hash: str
