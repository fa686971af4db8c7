"""The inbox of an agency's officer (or of its own system): the steps of their agencies, filtered
and paged, soonest due first, and one of those steps. Another agency's step answers 404, exactly
like a step that does not exist."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from routing.application.reading import InboxFilters, agency_inbox, agency_step
from routing.deps import CalendarDep, StepsCaller, UnitOfWorkDep
from routing.schemas import AgencyStep, Inbox

router = APIRouter(tags=["agencies"])


@router.get(
    "/agency/steps",
    response_model=Inbox,
    summary="The inbox: the steps of the caller's agencies, filtered and paged, with due times",
)
async def inbox(
    uow: UnitOfWorkDep,
    calendar: CalendarDep,
    caller: StepsCaller,
    state: Annotated[list[str] | None, Query(description="Step states; default every open state.")] = None,
    agency: Annotated[
        str | None, Query(description="One of the caller's agencies (404 for another); default all of them.")
    ] = None,
    procedure_code: str | None = None,
    dossier_code: str | None = None,
    due_before: datetime | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Inbox:
    filters = InboxFilters(state, procedure_code, dossier_code, due_before, agency)
    return await agency_inbox(uow, calendar, caller.scope, filters, page=page, page_size=page_size)


@router.get("/agency/steps/{dossier_id}/{step_id}", response_model=AgencyStep, summary="One step of the caller's agencies")
async def one_step(dossier_id: UUID, step_id: str, uow: UnitOfWorkDep, calendar: CalendarDep, caller: StepsCaller) -> AgencyStep:
    return await agency_step(uow, calendar, caller.scope, dossier_id, step_id)
