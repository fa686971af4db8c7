"""Response bodies of deadline's API (what its read use cases give back) and the operator's tick."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field


class DeadlinePublic(BaseModel):
    scope: str
    step_id: str
    agency_code: str | None
    agency_name: str | None = None
    started_at: datetime
    due_at: datetime
    budget_hours: float
    state: str = Field(description="open, paused, closed or cancelled")
    remaining_hours: float | None = None
    completed_at: datetime | None = None
    outcome: str | None = Field(None, description="early, on_time or late once closed")
    overdue_at: datetime | None = None


class PausePublic(BaseModel):
    status: int
    requested_by: str | None
    step_id: str | None
    paused_at: datetime
    resumed_at: datetime | None
    old_appointment_at: datetime
    new_appointment_at: datetime | None


class ApologyPublic(BaseModel):
    """Phiếu xin lỗi và hẹn lại ngày trả kết quả (form 4)."""

    responsible_agency_code: str | None
    responsible_agency_name: str | None
    reason: str
    old_appointment_at: datetime
    new_appointment_at: datetime
    issued_at: datetime


class ClockPublic(BaseModel):
    dossier_id: UUID
    dossier_code: str
    state: str = Field(description="running, paused, resolved, refused or withdrawn")
    paused_status: int | None
    due_at: datetime
    appointment_at: datetime
    ended_at: datetime | None
    outcome: str | None
    pauses: list[PausePublic]
    apologies: list[ApologyPublic]


class TickRequest(BaseModel):
    at: AwareDatetime | None = Field(
        None, description="The instant to tick at (default: now), not later than now. Timezone required."
    )

    model_config = {"json_schema_extra": {"examples": [{"at": "2026-03-02T09:00:00+07:00"}]}}


class TickPublic(BaseModel):
    at: datetime
    fired: int
    warnings: int
    overdue: int
    apologies: int
    stale: int


class ReportPublic(BaseModel):
    period_from: date
    period_to: date
    by: str
    rows: list[dict[str, Any]] = Field(
        description="Per key (with its `name` where known): received (received_new, carried_over), resolved (early, "
        "on_time, late), in_progress (in_progress_not_due, in_progress_overdue), paused, withdrawn_or_refused "
        "(withdrawn, refused), on_time_rate, fully_online, fully_online_share."
    )
    total: dict[str, Any]


class MissedStepPublic(BaseModel):
    """A step whose due time passed before it was done: the agency it was late at."""

    step_id: str
    agency_code: str | None
    agency_name: str | None
    due_at: datetime
    completed_at: datetime | None


class LateDossierPublic(BaseModel):
    """A dossier behind a report row's late or overdue count (by agency: one of its steps at that agency)."""

    dossier_id: UUID
    dossier_code: str
    procedure_code: str
    procedure_name: str
    field_code: str
    channel: int
    receiving_unit: str
    received_at: datetime
    due_at: datetime = Field(description="When the dossier was due (what its outcome is classed against).")
    appointment_at: datetime = Field(description="The appointment the citizen was given last (after any apology).")
    resolved_at: datetime | None = Field(None, description="When the result was ready; absent while in progress.")
    state: str = Field(description="The dossier's state now: running, paused, resolved, refused or withdrawn.")
    step_id: str | None = Field(
        None,
        description="The step responsible for the lateness: the first whose due time was missed (by agency: the row's step).",
    )
    agency_code: str | None = Field(None, description="The agency that held that step.")
    agency_name: str | None = None
    step_due_at: datetime | None = None
    step_completed_at: datetime | None = None
    missed_steps: list[MissedStepPublic] = Field(default_factory=list, description="Every step whose due time was missed.")


class LateDossiersPublic(BaseModel):
    period_from: date
    period_to: date
    by: str
    key: str
    name: str | None = None
    state: str = Field(description="late (resolved after the due time) or overdue (in progress past it)")
    dossiers: list[LateDossierPublic]
    truncated: bool = Field(False, description="More than `limit` dossiers: only the first, soonest due, are listed.")
