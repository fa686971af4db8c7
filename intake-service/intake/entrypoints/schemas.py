"""Request and response bodies of intake's API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

CitizenId = Annotated[str, StringConstraints(pattern=r"^\d{12}$")]
VnMobile = Annotated[str, StringConstraints(pattern=r"^(0|\+84)(3|5|7|8|9)\d{8}$")]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class ApplicantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    citizen_id: CitizenId | None = Field(None, description="Số định danh cá nhân, 12 digits.")
    phone: VnMobile | None = Field(None, description="Vietnamese mobile number, e.g. 0912345678.")
    email: Email | None = None
    notify_channels: list[Literal["sms", "email"]] = Field(default_factory=list)


class DossierCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "procedure_code": "1.001193",
                    "channel": 1,
                    "applicant": {"name": "Nguyễn Văn An", "citizen_id": "079123456789", "phone": "0912345678", "notify_channels": ["sms"]},
                }
            ]
        },
    )

    procedure_code: str = Field(min_length=1, max_length=64)
    channel: Literal[1, 2, 3] = Field(description="1 counter, 2 online, 3 public postal service.")
    applicant: ApplicantIn


class TimelineEntry(BaseModel):
    at: datetime
    kind: str
    label: str
    detail: dict[str, object]


class DossierPublic(BaseModel):
    id: UUID
    code: str
    procedure_code: str
    procedure_name: str
    channel: int
    status: int = Field(description="National portal status code (1–10).")
    status_label: str
    received_at: datetime
    appointment_at: datetime
    timeline: list[TimelineEntry] = Field(default_factory=list)
