"""Deadline's REST API: a dossier's due times and clock, and the operator's tick."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, Field
from sqlalchemy import select

from deadline.adapters.tables import apologies, deadlines, dossiers, pauses
from deadline.entrypoints.consumers import tracker_of
from deadline.timers import tick
from services.problems import Problem
from services.web import RuntimeDep, StaffOnly, require_operator

router = APIRouter(prefix="/dossiers", tags=["deadlines"], dependencies=StaffOnly)
admin = APIRouter(prefix="/admin", tags=["operations"], dependencies=[Depends(require_operator)])


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
    at: datetime | None = Field(None, description="The instant to tick at (default: now). Timezone required.")

    model_config = {"json_schema_extra": {"examples": [{"at": "2027-03-01T09:00:00+07:00"}]}}


class TickPublic(BaseModel):
    at: datetime
    fired: int
    warnings: int
    overdue: int
    apologies: int
    stale: int


@router.get("/{dossier_id}/deadlines", response_model=list[DeadlinePublic], summary="Due times of a dossier and its steps")
async def get_deadlines(dossier_id: UUID, runtime: RuntimeDep) -> list[DeadlinePublic]:
    async with runtime.sessionmaker() as session:
        rows = (
            (
                await session.execute(
                    select(deadlines)
                    .where(deadlines.c.dossier_id == dossier_id)
                    .order_by(deadlines.c.started_at, deadlines.c.step_id)
                )
            )
            .mappings()
            .all()
        )
    if not rows:
        raise Problem(404, "Not found", f"no deadlines for dossier {dossier_id}", type="not-found")
    return [DeadlinePublic.model_validate(dict(r)) for r in rows]


@router.get("/{dossier_id}/clock", response_model=ClockPublic, summary="A dossier's clock: appointment, pauses and apologies")
async def get_clock(dossier_id: UUID, runtime: RuntimeDep) -> ClockPublic:
    async with runtime.sessionmaker() as session:
        dossier = (await session.execute(select(dossiers).where(dossiers.c.dossier_id == dossier_id))).mappings().first()
        if dossier is None:
            raise Problem(404, "Not found", f"dossier {dossier_id} is not tracked", type="not-found")
        pause_rows = (
            (await session.execute(select(pauses).where(pauses.c.dossier_id == dossier_id).order_by(pauses.c.id)))
            .mappings()
            .all()
        )
        apology_rows = (
            (await session.execute(select(apologies).where(apologies.c.dossier_id == dossier_id).order_by(apologies.c.id)))
            .mappings()
            .all()
        )
    return ClockPublic(
        **{
            k: dossier[k]
            for k in ("dossier_id", "dossier_code", "state", "paused_status", "due_at", "appointment_at", "ended_at", "outcome")
        },
        pauses=[PausePublic.model_validate(dict(p)) for p in pause_rows],
        apologies=[ApologyPublic.model_validate(dict(a)) for a in apology_rows],
    )


@admin.post("/tick", response_model=TickPublic, summary="Fire the timers due at an instant (the worker's own tick)")
async def run_tick(runtime: RuntimeDep, request: Annotated[TickRequest, Body()] = TickRequest()) -> TickPublic:
    at = request.at or datetime.now(UTC)
    if at.tzinfo is None:
        raise Problem(
            422,
            "Invalid instant",
            "`at` needs a timezone offset",
            type="validation",
            errors=[{"field": "at", "message": "timezone required"}],
        )
    settings = runtime.settings
    result = await tick(runtime, tracker_of(runtime), at, settings.tick_batch, settings.apology_min_extension_hours)  # type: ignore[attr-defined]
    return TickPublic(**vars(result))
