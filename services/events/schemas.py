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
    agency_code: str = Field(description="Code of the agency handling the step (the catalogue's agency code).")
    agency_name: str = Field(description="Display name of that agency.")
    department: str | None = Field(None, description="Department (phòng) within the agency, when the catalogue names one.")
    budget_hours: float = Field(gt=0, description="Working hours; 1 working day = 8 hours.")
    after: list[str] = Field(default_factory=list, description="Steps that must be done first.")


class ApplicantContact(_Part):
    """What notify needs to reach the applicant, and nothing more."""

    name: str = Field(description="The applicant's name as on the dossier.")
    phone: str | None = Field(None, description="Mobile number for SMS notices, if given.")
    email: str | None = Field(None, description="Email address for notices, if given.")
    notify_channels: list[NoticeChannel] = Field(
        default_factory=list, description="Channels the applicant agreed to be notified on."
    )
    language: Literal["vi", "en"] = Field("vi", description="Language of the notices.")
    opt_out_non_essential: bool = Field(
        False, description="Only notices the law requires (receipt, supplement, refusal, apology, result)."
    )


# ---------------------------------------------------------------- intake


class DossierReceived(Event):
    """Hồ sơ đã được tiếp nhận: the dossier was accepted (national status 2)."""

    event_type = "dossier.received"

    dossier_code: str = Field(description="Mã số hồ sơ, `<unit code>-YYMMDD-XXXX`.")
    procedure_code: str = Field(description="Mã thủ tục hành chính of the national procedure database.")
    procedure_name: str = Field(description="Name of the administrative procedure.")
    field_code: str = Field("", description="Lĩnh vực of the procedure.")
    catalogue_version: str = Field(description="Version of the procedure catalogue the route and budget were taken from.")
    receiving_unit: str = Field(description="Code of the unit (bộ phận một cửa) that received the dossier.")
    channel: Channel = Field(
        description="How it was lodged (portal HinhThuc): 1 at the counter, 2 online, 3 by public postal service."
    )
    fully_online: bool = Field(False, description="Handled fully online (dịch vụ công trực tuyến toàn trình).")
    received_at: datetime = Field(description="When it was received.")
    clock_starts_at: datetime = Field(description="When working time starts counting (cut-off, office hours).")
    appointment_at: datetime = Field(description="Ngày hẹn trả kết quả.")
    budget_hours: float = Field(description="Working hours allowed; 1 working day = 8 hours.")
    resume_rule: ResumeRule = Field("keep_elapsed", description="After a pause: keep used time, or restart the budget.")
    route: list[RouteStep] = Field(description="The interlinked route, in catalogue order.")
    applicant_name: str | None = Field(
        None, description="The applicant's name, as the national portal's sync (ChuHoSo) needs it; no other personal data."
    )
    applicant: ApplicantContact | None = Field(
        None,
        description="Only in events written before contacts travelled apart: the contact now goes to notify alone, "
        "sealed, in `dossier.contact_given` on intake's private contacts stream.",
    )
    lookup_secret: str | None = Field(
        None, description="Only in events written before contacts travelled apart (now inside `dossier.contact_given`)."
    )


class ContactGiven(Event):
    """The applicant's contact for notices, on intake's private stream that notify alone reads, sealed
    under the contact keys intake and notify share (`CONTACT_KEYS`): `contact` opens, with purpose
    `motcua.contact`, to the JSON of an `ApplicantContact` plus `lookup_secret`. Sent with every
    `dossier.received`, before it."""

    event_type = "dossier.contact_given"

    contact: str = Field(description="Sealed (`pd1.<key id>.<data>`): the contact and the look-up secret.")


# The JSON a `ContactGiven.contact` opens to.
class SealedContact(ApplicantContact):
    lookup_secret: str | None = Field(None, description="Mã tra cứu, for the receipt notice's look-up link.")


# ---------------------------------------------------------------- personal data (Decree 13/2023)


class PersonalDataRequested(Event):
    """An operator asked, for a citizen, for everything held (export) or for it to be erased: one event
    per dossier of that citizen (found by intake's blind index), so each service acts on its own data
    after every earlier event of the dossier. The citizen id itself never travels."""

    event_type = "personal_data.requested"

    request_id: str = Field(description="The request, as intake numbered it.")
    kind: Literal["export", "erasure"] = Field(description="Export what is held, or erase it.")
    requested_at: datetime = Field(description="When the operator asked.")


class PersonalDataAnswered(Event):
    """A service did its part of a request for one dossier. No personal data: an export's part stays
    in the service, read by the operator at its `GET /personal-data/requests/{request_id}`."""

    event_type = "personal_data.answered"

    request_id: str = Field(description="The request answered.")
    kind: Literal["export", "erasure"] = Field(description="What was asked.")
    service: str = Field(description="The service answering.")
    records: int = Field(ge=0, description="Records of personal data exported, or erased.")


class SupplementRequested(Event):
    """Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (form 2), at the counter or by an agency: status 5, the clock pauses."""

    event_type = "dossier.supplement_requested"

    requested_by: str = Field(description="`counter` or the requesting agency's code.")
    step_id: str | None = Field(None, description="The step that asked, when an agency asked.")
    items: list[str] = Field(min_length=1, description="Every missing or incomplete item.")
    reason: str | None = Field(None, description="The reason, as recorded by whoever acted.")
    requested_at: datetime = Field(description="When the request was made.")


class SupplementReceived(Event):
    """The citizen handed in the missing items; processing resumes."""

    event_type = "dossier.supplement_received"

    received_at: datetime = Field(description="When it was received.")
    items: list[str] = Field(description="The items handed in.")


class DossierRefused(Event):
    """Phiếu từ chối tiếp nhận giải quyết hồ sơ (form 3), or an agency's refusal: status 3."""

    event_type = "dossier.refused"

    refused_by: str = Field(description="`counter` or the refusing agency's code.")
    step_id: str | None = Field(None, description="The step of the route concerned, stable within the procedure.")
    reason: str = Field(description="The reason, citing the legal ground when an agency refuses.")
    refused_at: datetime = Field(description="When the dossier was refused.")


class DossierWithdrawn(Event):
    """The citizen withdrew the dossier: status 7."""

    event_type = "dossier.withdrawn"

    reason: str | None = Field(None, description="The reason, as recorded by whoever acted.")
    withdrawn_at: datetime = Field(description="When the citizen withdrew the dossier.")


class ResultReturned(Event):
    """The result was handed to the citizen: status 10."""

    event_type = "dossier.result_returned"

    returned_at: datetime = Field(description="When it was returned.")
    method: ReturnMethod = Field(description="How the result was returned: at the counter, by post or online.")


class DossierRated(Event):
    """The citizen's satisfaction rating after the result was returned."""

    event_type = "dossier.rated"

    score: int = Field(ge=1, le=5, description="Satisfaction from 1 (very unsatisfied) to 5 (very satisfied).")
    comment: str | None = Field(None, description="The citizen's free-text comment, if any.")
    rated_at: datetime = Field(description="When the rating was given.")


# ---------------------------------------------------------------- routing


class StepAssigned(Event):
    """A step of the route was handed to its agency (a control-sheet handover, form 5)."""

    event_type = "routing.step_assigned"

    step_id: str = Field(description="The step of the route concerned, stable within the procedure.")
    agency_code: str = Field(description="Code of the agency handling the step (the catalogue's agency code).")
    agency_name: str = Field(description="Display name of that agency.")
    department: str | None = Field(None, description="Department (phòng) within the agency, when the catalogue names one.")
    budget_hours: float = Field(description="Working hours allowed; 1 working day = 8 hours.")
    assigned_at: datetime = Field(description="When the step was handed to its agency.")


class StepAccepted(Event):
    """An agency officer took the step on."""

    event_type = "routing.step_accepted"

    step_id: str = Field(description="The step of the route concerned, stable within the procedure.")
    agency_code: str = Field(description="Code of the agency handling the step (the catalogue's agency code).")
    officer: str = Field(description="The officer (identity provider subject) who acted.")
    accepted_at: datetime = Field(description="When the officer took the step on.")


class StepCompleted(Event):
    """An agency finished its step, with its result documents (by reference)."""

    event_type = "routing.step_completed"

    step_id: str = Field(description="The step of the route concerned, stable within the procedure.")
    agency_code: str = Field(description="Code of the agency handling the step (the catalogue's agency code).")
    officer: str = Field(description="The officer (identity provider subject) who acted.")
    completed_at: datetime = Field(description="When the work was finished.")
    result_documents: list[str] = Field(
        default_factory=list, description="References of the result documents (not their content)."
    )
    note: str | None = Field(None, description="The officer's note, if any.")


class StepReturned(Event):
    """A step was sent back to the previous step, with a reason."""

    event_type = "routing.step_returned"

    step_id: str = Field(description="The step of the route concerned, stable within the procedure.")
    to_step_id: str = Field(description="The earlier step the work goes back to.")
    agency_code: str = Field(description="Code of the agency handling the step (the catalogue's agency code).")
    officer: str = Field(description="The officer (identity provider subject) who acted.")
    reason: str = Field(description="The reason, as recorded by whoever acted.")
    returned_at: datetime = Field(description="When it was returned.")


class StepTransferred(Event):
    """A misrouted step was transferred to the competent agency."""

    event_type = "routing.step_transferred"

    step_id: str = Field(description="The step of the route concerned, stable within the procedure.")
    from_agency_code: str = Field(description="The agency the step was wrongly routed to.")
    to_agency_code: str = Field(description="The competent agency the step now goes to.")
    to_agency_name: str = Field(description="Display name of that agency.")
    officer: str = Field(description="The officer (identity provider subject) who acted.")
    reason: str = Field(description="The reason, as recorded by whoever acted.")
    transferred_at: datetime = Field(description="When the step was transferred.")


class FeeRequested(Event):
    """The agency asks the citizen to pay fees or taxes: status 6, the clock pauses."""

    event_type = "routing.fee_requested"

    step_id: str = Field(description="The step of the route concerned, stable within the procedure.")
    agency_code: str = Field(description="Code of the agency handling the step (the catalogue's agency code).")
    amount_vnd: int = Field(ge=0, description="Amount in Vietnamese đồng.")
    description: str = Field(description="What the fee or tax is for, as shown to the citizen.")
    requested_at: datetime = Field(description="When the request was made.")


class FeePaid(Event):
    """Payment of the requested fees or taxes was recorded; handling resumes."""

    event_type = "routing.fee_paid"

    step_id: str = Field(description="The step of the route concerned, stable within the procedure.")
    agency_code: str = Field(description="Code of the agency handling the step (the catalogue's agency code).")
    amount_vnd: int = Field(ge=0, description="Amount in Vietnamese đồng.")
    receipt_ref: str | None = Field(None, description="Reference of the payment receipt, if any.")
    paid_at: datetime = Field(description="When the payment was recorded.")


class HandlingStopped(Event):
    """The agency stopped handling the dossier (status 8); the clock pauses."""

    event_type = "routing.handling_stopped"

    step_id: str = Field(description="The step of the route concerned, stable within the procedure.")
    agency_code: str = Field(description="Code of the agency handling the step (the catalogue's agency code).")
    reason: str = Field(description="The reason, as recorded by whoever acted.")
    stopped_at: datetime = Field(description="When handling stopped.")


class HandlingResumed(Event):
    """Handling resumes after a stop."""

    event_type = "routing.handling_resumed"

    step_id: str = Field(description="The step of the route concerned, stable within the procedure.")
    agency_code: str = Field(description="Code of the agency handling the step (the catalogue's agency code).")
    resumed_at: datetime = Field(description="When it resumed.")


class RouteCompleted(Event):
    """Every branch of the route is done: the result is ready (status 9)."""

    event_type = "routing.route_completed"

    completed_at: datetime = Field(description="When the work was finished.")
    result_documents: list[str] = Field(
        default_factory=list, description="References of the result documents (not their content)."
    )


# ---------------------------------------------------------------- deadline


class DeadlineTracked(Event):
    """Deadline now tracks a due time for the whole dossier or one step."""

    event_type = "deadline.tracked"

    scope: Literal["dossier", "step"] = Field(description="Whether the due time is the whole dossier's or one step's.")
    step_id: str | None = Field(None, description="The step of the route concerned, stable within the procedure.")
    agency_code: str | None = Field(None, description="Code of the agency handling the step (the catalogue's agency code).")
    started_at: datetime = Field(description="When working time started counting.")
    due_at: datetime = Field(description="The due time, in working time from the start.")
    budget_hours: float = Field(description="Working hours allowed; 1 working day = 8 hours.")


class DeadlineWarning(Event):
    """A due time is near (a configured threshold was crossed); sent once per due time and threshold."""

    event_type = "deadline.warning"

    scope: Literal["dossier", "step"] = Field(description="Whether the due time is the whole dossier's or one step's.")
    step_id: str | None = Field(None, description="The step of the route concerned, stable within the procedure.")
    agency_code: str | None = Field(None, description="Code of the agency handling the step (the catalogue's agency code).")
    threshold: str = Field(description="Which threshold fired, e.g. `1-working-day` or `80-percent`.")
    due_at: datetime = Field(description="The due time, in working time from the start.")
    warned_at: datetime = Field(description="When the warning was raised.")


class DeadlineOverdue(Event):
    """A due time passed with the work not done; names the agency responsible."""

    event_type = "deadline.overdue"

    scope: Literal["dossier", "step"] = Field(description="Whether the due time is the whole dossier's or one step's.")
    step_id: str | None = Field(None, description="The step of the route concerned, stable within the procedure.")
    agency_code: str | None = Field(None, description="Code of the agency handling the step (the catalogue's agency code).")
    agency_name: str | None = Field(None, description="Display name of that agency.")
    due_at: datetime = Field(description="The due time, in working time from the start.")
    detected_at: datetime = Field(description="When the deadline service noticed the due time had passed.")


class ApologyIssued(Event):
    """Phiếu xin lỗi và hẹn lại ngày trả kết quả (form 4): reason, responsible agency, new date."""

    event_type = "deadline.apology_issued"

    responsible_agency_code: str | None = Field(description="Code of the agency responsible for the delay, when one is.")
    responsible_agency_name: str | None = Field(description="Name of that agency.")
    reason: str = Field(description="The reason, as recorded by whoever acted.")
    old_appointment_at: datetime = Field(description="The appointment date before this change.")
    new_appointment_at: datetime = Field(description="The new appointment date.")
    issued_at: datetime = Field(description="When the apology was issued.")


class ClockPaused(Event):
    """The dossier's clock stopped while waiting for the citizen (status 5, 6 or 8)."""

    event_type = "deadline.clock_paused"

    status: PausedStatus = Field(description="National portal status that paused the clock (5, 6 or 8).")
    paused_at: datetime = Field(description="When the clock stopped.")
    appointment_at: datetime = Field(description="The appointment (ngày hẹn trả) while the clock is paused.")


class ClockResumed(Event):
    """The clock runs again; the appointment moved by the paused time (or the budget restarted)."""

    event_type = "deadline.clock_resumed"

    resumed_at: datetime = Field(description="When it resumed.")
    rule: ResumeRule = Field(description="How the budget continues: keep used time, or restart it.")
    old_appointment_at: datetime = Field(description="The appointment date before this change.")
    new_appointment_at: datetime = Field(description="The new appointment date.")


class DeadlineClosed(Event):
    """Work on a dossier or step finished; classed early, on time or late against its due time."""

    event_type = "deadline.closed"

    scope: Literal["dossier", "step"] = Field(description="Whether the due time is the whole dossier's or one step's.")
    step_id: str | None = Field(None, description="The step of the route concerned, stable within the procedure.")
    agency_code: str | None = Field(None, description="Code of the agency handling the step (the catalogue's agency code).")
    due_at: datetime = Field(description="The due time, in working time from the start.")
    completed_at: datetime = Field(description="When the work was finished.")
    outcome: Outcome = Field(description="Finished early, on time or late against the due time.")


# ---------------------------------------------------------------- notify


class NoticeSent(Event):
    """A notice was handed to its channel."""

    event_type = "notify.notice_sent"

    notice_id: str = Field(description="Id of the notice within notify.")
    trigger: str = Field(description="The event type that caused the notice.")
    channel: NoticeChannel = Field(description="The notice's channel: sms, email or the officers' console.")
    recipient: str = Field(description="Masked: never the full phone number or address.")
    sent_at: datetime = Field(description="When the notice was handed to its channel.")


class NoticeDelivered(Event):
    """The gateway confirmed delivery (a delivery receipt)."""

    event_type = "notify.notice_delivered"

    notice_id: str = Field(description="Id of the notice within notify.")
    channel: NoticeChannel = Field(description="The notice's channel: sms, email or the officers' console.")
    delivered_at: datetime = Field(description="When the gateway says the notice was delivered.")


class NoticeFailed(Event):
    """A notice could not be delivered; `permanent` when retrying will not help."""

    event_type = "notify.notice_failed"

    notice_id: str = Field(description="Id of the notice within notify.")
    trigger: str = Field(description="The event type that caused the notice.")
    channel: NoticeChannel = Field(description="The notice's channel: sms, email or the officers' console.")
    recipient: str = Field(description="Masked.")
    error: str = Field(description="The channel's error, as reported.")
    permanent: bool = Field(description="True when retrying will not help (e.g. an invalid number).")
    failed_at: datetime = Field(description="When the attempt failed.")
