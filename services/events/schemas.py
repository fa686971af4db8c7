"""Every event type on the backbone, with its payload schema. `python -m services.events`
writes them as JSON Schema to docs/events/; a test keeps that folder in step with this file.

Times are ISO 8601 with offset (UTC when produced by the kernel)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.events.registry import Event
from services.vocabulary import PortalStatus

Channel = Literal[1, 2, 3]  # national portal HinhThuc: 1 counter, 2 online, 3 public postal service
NoticeChannel = Literal["sms", "email", "console"]
# The statuses that pause the clock: supplement requested, awaiting fees/taxes, handling stopped.
PausedStatus = Literal[PortalStatus.SUPPLEMENT_REQUESTED, PortalStatus.AWAITING_PAYMENT, PortalStatus.STOPPED]
ResumeRule = Literal["keep_elapsed", "restart"]
Outcome = Literal["early", "on_time", "late"]
ReturnMethod = Literal["counter", "post", "online"]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RouteStep(_Part):
    """One step of an interlinked route, fixed at receipt from the procedure catalogue."""

    step_id: str = Field(description="Stable within the procedure, e.g. `civil-status`.")
    agency_code: str
    agency_name: str
    department: str | None = None
    budget_hours: float = Field(gt=0, description="Working hours; 1 working day = 8 hours.")
    after: list[str] = Field(default_factory=list, description="Steps that must be done first.")


class ApplicantContact(_Part):
    """What notify needs to reach the applicant, and nothing more."""

    name: str
    phone: str | None = None
    email: str | None = None
    notify_channels: list[NoticeChannel] = Field(default_factory=list)
    language: Literal["vi", "en"] = "vi"
    opt_out_non_essential: bool = Field(
        False, description="Only notices the law requires (receipt, supplement, refusal, apology, result)."
    )


# ---------------------------------------------------------------- intake


class DossierReceived(Event):
    """Hồ sơ đã được tiếp nhận: the dossier was accepted (national status 2)."""

    event_type = "dossier.received"

    dossier_code: str = Field(description="Mã số hồ sơ, `<unit code>-YYMMDD-XXXX`.")
    procedure_code: str
    procedure_name: str
    field_code: str = Field("", description="Lĩnh vực of the procedure.")
    catalogue_version: str
    receiving_unit: str
    channel: Channel
    fully_online: bool = Field(False, description="Handled fully online (dịch vụ công trực tuyến toàn trình).")
    received_at: datetime
    clock_starts_at: datetime = Field(description="When working time starts counting (cut-off, office hours).")
    appointment_at: datetime = Field(description="Ngày hẹn trả kết quả.")
    budget_hours: float
    resume_rule: ResumeRule = Field("keep_elapsed", description="After a pause: keep used time, or restart the budget.")
    route: list[RouteStep]
    applicant: ApplicantContact
    lookup_secret: str | None = Field(
        None,
        description="Mã tra cứu printed on the receipt: with the code, it opens the dossier's look-up. Personal access "
        "data, carried for notify alone, which puts it in the receipt notice's look-up link and keeps it nowhere else; "
        "other consumers ignore it. Absent in events written before it was carried.",
    )


class SupplementRequested(Event):
    """Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (form 2), at the counter or by an agency: status 5, the clock pauses."""

    event_type = "dossier.supplement_requested"

    requested_by: str = Field(description="`counter` or the requesting agency's code.")
    step_id: str | None = Field(None, description="The step that asked, when an agency asked.")
    items: list[str] = Field(min_length=1, description="Every missing or incomplete item.")
    reason: str | None = None
    requested_at: datetime


class SupplementReceived(Event):
    """The citizen handed in the missing items; processing resumes."""

    event_type = "dossier.supplement_received"

    received_at: datetime
    items: list[str]


class DossierRefused(Event):
    """Phiếu từ chối tiếp nhận giải quyết hồ sơ (form 3), or an agency's refusal: status 3."""

    event_type = "dossier.refused"

    refused_by: str = Field(description="`counter` or the refusing agency's code.")
    step_id: str | None = None
    reason: str = Field(description="The reason, citing the legal ground when an agency refuses.")
    refused_at: datetime


class DossierWithdrawn(Event):
    """The citizen withdrew the dossier: status 7."""

    event_type = "dossier.withdrawn"

    reason: str | None = None
    withdrawn_at: datetime


class ResultReturned(Event):
    """The result was handed to the citizen: status 10."""

    event_type = "dossier.result_returned"

    returned_at: datetime
    method: ReturnMethod


class DossierRated(Event):
    """The citizen's satisfaction rating after the result was returned."""

    event_type = "dossier.rated"

    score: int = Field(ge=1, le=5)
    comment: str | None = None
    rated_at: datetime


# ---------------------------------------------------------------- routing


class StepAssigned(Event):
    """A step of the route was handed to its agency (a control-sheet handover, form 5)."""

    event_type = "routing.step_assigned"

    step_id: str
    agency_code: str
    agency_name: str
    department: str | None = None
    budget_hours: float
    assigned_at: datetime


class StepAccepted(Event):
    """An agency officer took the step on."""

    event_type = "routing.step_accepted"

    step_id: str
    agency_code: str
    officer: str
    accepted_at: datetime


class StepCompleted(Event):
    """An agency finished its step, with its result documents (by reference)."""

    event_type = "routing.step_completed"

    step_id: str
    agency_code: str
    officer: str
    completed_at: datetime
    result_documents: list[str] = Field(default_factory=list)
    note: str | None = None


class StepReturned(Event):
    """A step was sent back to the previous step, with a reason."""

    event_type = "routing.step_returned"

    step_id: str
    to_step_id: str
    agency_code: str
    officer: str
    reason: str
    returned_at: datetime


class StepTransferred(Event):
    """A misrouted step was transferred to the competent agency."""

    event_type = "routing.step_transferred"

    step_id: str
    from_agency_code: str
    to_agency_code: str
    to_agency_name: str
    officer: str
    reason: str
    transferred_at: datetime


class FeeRequested(Event):
    """The agency asks the citizen to pay fees or taxes: status 6, the clock pauses."""

    event_type = "routing.fee_requested"

    step_id: str
    agency_code: str
    amount_vnd: int = Field(ge=0)
    description: str
    requested_at: datetime


class FeePaid(Event):
    """Payment of the requested fees or taxes was recorded; handling resumes."""

    event_type = "routing.fee_paid"

    step_id: str
    agency_code: str
    amount_vnd: int = Field(ge=0)
    receipt_ref: str | None = None
    paid_at: datetime


class HandlingStopped(Event):
    """The agency stopped handling the dossier (status 8); the clock pauses."""

    event_type = "routing.handling_stopped"

    step_id: str
    agency_code: str
    reason: str
    stopped_at: datetime


class HandlingResumed(Event):
    """Handling resumes after a stop."""

    event_type = "routing.handling_resumed"

    step_id: str
    agency_code: str
    resumed_at: datetime


class RouteCompleted(Event):
    """Every branch of the route is done: the result is ready (status 9)."""

    event_type = "routing.route_completed"

    completed_at: datetime
    result_documents: list[str] = Field(default_factory=list)


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


class DeadlineWarning(Event):
    """A due time is near (a configured threshold was crossed); sent once per due time and threshold."""

    event_type = "deadline.warning"

    scope: Literal["dossier", "step"]
    step_id: str | None = None
    agency_code: str | None = None
    threshold: str = Field(description="Which threshold fired, e.g. `1-working-day` or `80-percent`.")
    due_at: datetime
    warned_at: datetime


class DeadlineOverdue(Event):
    """A due time passed with the work not done; names the agency responsible."""

    event_type = "deadline.overdue"

    scope: Literal["dossier", "step"]
    step_id: str | None = None
    agency_code: str | None = None
    agency_name: str | None = None
    due_at: datetime
    detected_at: datetime


class ApologyIssued(Event):
    """Phiếu xin lỗi và hẹn lại ngày trả kết quả (form 4): reason, responsible agency, new date."""

    event_type = "deadline.apology_issued"

    responsible_agency_code: str | None
    responsible_agency_name: str | None
    reason: str
    old_appointment_at: datetime
    new_appointment_at: datetime
    issued_at: datetime


class ClockPaused(Event):
    """The dossier's clock stopped while waiting for the citizen (status 5, 6 or 8)."""

    event_type = "deadline.clock_paused"

    status: PausedStatus
    paused_at: datetime
    appointment_at: datetime


class ClockResumed(Event):
    """The clock runs again; the appointment moved by the paused time (or the budget restarted)."""

    event_type = "deadline.clock_resumed"

    resumed_at: datetime
    rule: ResumeRule
    old_appointment_at: datetime
    new_appointment_at: datetime


class DeadlineClosed(Event):
    """Work on a dossier or step finished; classed early, on time or late against its due time."""

    event_type = "deadline.closed"

    scope: Literal["dossier", "step"]
    step_id: str | None = None
    agency_code: str | None = None
    due_at: datetime
    completed_at: datetime
    outcome: Outcome


# ---------------------------------------------------------------- notify


class NoticeSent(Event):
    """A notice was handed to its channel."""

    event_type = "notify.notice_sent"

    notice_id: str
    trigger: str = Field(description="The event type that caused the notice.")
    channel: NoticeChannel
    recipient: str = Field(description="Masked: never the full phone number or address.")
    sent_at: datetime


class NoticeDelivered(Event):
    """The gateway confirmed delivery (a delivery receipt)."""

    event_type = "notify.notice_delivered"

    notice_id: str
    channel: NoticeChannel
    delivered_at: datetime


class NoticeFailed(Event):
    """A notice could not be delivered; `permanent` when retrying will not help."""

    event_type = "notify.notice_failed"

    notice_id: str
    trigger: str
    channel: NoticeChannel
    recipient: str = Field(description="Masked.")
    error: str
    permanent: bool
    failed_at: datetime
