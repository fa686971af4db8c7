"""Deadline's REST API: a dossier's due times and clock, and the operator's tick."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body

from deadline.application.reading import get_clock, get_deadlines
from deadline.application.timers import operator_tick
from deadline.deps import ClockRulesDep, DossierReader, SettingsDep, UnitOfWorkDep
from deadline.entrypoints.workers import count_fired
from deadline.schemas import ClockPublic, DeadlinePublic, TickPublic, TickRequest
from services.identity import OperatorOnly

router = APIRouter(prefix="/dossiers", tags=["deadlines"])
admin = APIRouter(prefix="/admin", tags=["operations"], dependencies=OperatorOnly)


@router.get("/{dossier_id}/deadlines", response_model=list[DeadlinePublic], summary="Due times of a dossier and its steps")
async def deadlines(dossier_id: UUID, uow: UnitOfWorkDep, caller: DossierReader) -> list[DeadlinePublic]:
    """Counter officers and unit leaders: dossiers received at their units; specialists: dossiers
    with a step at their agency; the province administrator: all. Any other dossier is 404."""
    return await get_deadlines(uow, dossier_id, caller.scope)


@router.get("/{dossier_id}/clock", response_model=ClockPublic, summary="A dossier's clock: appointment, pauses and apologies")
async def clock(dossier_id: UUID, uow: UnitOfWorkDep, caller: DossierReader) -> ClockPublic:
    """Who may read it as for the due times; out of scope is 404."""
    return await get_clock(uow, dossier_id, caller.scope)


@admin.post("/tick", response_model=TickPublic, summary="Fire the timers due at an instant (the worker's own tick)")
async def tick(
    uow: UnitOfWorkDep,
    rules: ClockRulesDep,
    settings: SettingsDep,
    request: Annotated[TickRequest, Body()] = TickRequest(),
) -> TickPublic:
    """The operator only. `at` may be in the past (catching up), never later than now: 422 naming `at`."""
    result = await operator_tick(
        uow,
        rules,
        request.at,
        datetime.now(UTC),
        batch=settings.tick_batch,
        min_extension_hours=settings.apology_min_extension_hours,
    )
    count_fired(result)
    return TickPublic(**vars(result))
