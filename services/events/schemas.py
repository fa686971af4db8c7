"""Every event type on the backbone, with its payload schema. `python -m services.events`
writes them as JSON Schema to docs/events/; a test keeps that folder in step with this file.

Times are ISO 8601 with offset (UTC when produced by the kernel)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.events.registry import Event

Channel = Literal[1, 2, 3]  # national portal HinhThuc: 1 counter, 2 online, 3 public postal service
NoticeChannel = Literal["sms", "email", "console"]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RouteStep(_Part):
    """One step of an interlinked route, fixed at receipt from the procedure catalogue."""

    step_id: str = Field(description="Stable within the procedure, e.g. `civil-status`.")
    agency_code: str
    agency_name: str
    budget_hours: float = Field(gt=0, description="Working hours; 1 working day = 8 hours.")
    after: list[str] = Field(default_factory=list, description="Steps that must be done first.")


class ApplicantContact(_Part):
    """What notify needs to reach the applicant, and nothing more."""

    name: str
    phone: str | None = None
    email: str | None = None
    notify_channels: list[NoticeChannel] = Field(default_factory=list)
    language: Literal["vi", "en"] = "vi"


# ---------------------------------------------------------------- intake


class DossierReceived(Event):
    """Hồ sơ đã được tiếp nhận: the dossier was accepted (national status 2)."""

    event_type = "dossier.received"

    dossier_code: str = Field(description="Mã số hồ sơ, `<unit code>-YYMMDD-XXXX`.")
    procedure_code: str
    procedure_name: str
    catalogue_version: str
    receiving_unit: str
    channel: Channel
    received_at: datetime
    clock_starts_at: datetime = Field(description="When working time starts counting (cut-off, office hours).")
    appointment_at: datetime = Field(description="Ngày hẹn trả kết quả.")
    budget_hours: float
    route: list[RouteStep]
    applicant: ApplicantContact


# ---------------------------------------------------------------- routing


class StepAssigned(Event):
    """A step of the route was handed to its agency (a control-sheet handover, form 5)."""

    event_type = "routing.step_assigned"

    step_id: str
    agency_code: str
    agency_name: str
    budget_hours: float
    assigned_at: datetime


# ---------------------------------------------------------------- deadline


class DeadlineTracked(Event):
    """Deadline now tracks a due time for the whole dossier or one step."""

    event_type = "deadline.tracked"

    scope: Literal["dossier", "step"]
    step_id: str | None = None
    agency_code: str | None = None
    started_at: datetime
    due_at: datetime
    budget_hours: float


# ---------------------------------------------------------------- notify


class NoticeSent(Event):
    """A notice was handed to its channel."""

    event_type = "notify.notice_sent"

    notice_id: str
    trigger: str = Field(description="The event type that caused the notice.")
    channel: NoticeChannel
    recipient: str = Field(description="Masked: never the full phone number or address.")
    sent_at: datetime
