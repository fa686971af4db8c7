"""What agencies and staff read: the inbox of an agency's officer (the steps of their agencies,
filtered, paged, soonest due first) and one of those steps, each with its due time in working time;
a dossier's route with its control sheet (Phiếu kiểm soát quá trình giải quyết hồ sơ, form 5),
phase and national status. Each reads only what the caller's scope covers: anything else is 404,
exactly like what does not exist."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from routing.application.ports import RoutingUnitOfWork
from routing.domain.national import status_code
from routing.domain.route import step_due_at
from routing.domain.steps import OPEN
from routing.schemas import AgencyStep, HandoverPublic, Inbox, RoutePublic, StepPublic
from services.calendar import WorkingCalendar
from services.identity import Scope
from services.problems import not_found


@dataclass(frozen=True)
class InboxFilters:
    states: list[str] | None = None  # default: every open state
    procedure_code: str | None = None
    dossier_code: str | None = None
    due_before: datetime | None = None
    agency: str | None = None  # one of the caller's agencies; default all of them


def agency_step_view(calendar: WorkingCalendar, row: Mapping[str, Any]) -> AgencyStep:
    """A step as its agency sees it (the row carries its dossier's code and procedure)."""
    return AgencyStep(**{**row, "due_at": step_due_at(calendar, row["assigned_at"], row["budget_hours"])})


async def agency_inbox(
    uow: RoutingUnitOfWork, calendar: WorkingCalendar, scope: Scope, filters: InboxFilters, *, page: int, page_size: int
) -> Inbox:
    """The steps of the caller's agencies, soonest due first (those not yet assigned last). An agency
    filter outside them is 404, like another agency's step."""
    if filters.agency is not None and not scope.covers_agency(filters.agency):
        raise not_found(f"no agency {filters.agency} among your agencies")
    states = sorted(set(filters.states) if filters.states else OPEN)
    async with uow.read() as work:
        rows = await work.routes.agency_steps(
            scope,
            states,
            agency_code=filters.agency,
            procedure_code=filters.procedure_code,
            dossier_code=filters.dossier_code,
        )
    items = [agency_step_view(calendar, row) for row in rows]
    if filters.due_before:
        items = [i for i in items if i.due_at is not None and i.due_at <= filters.due_before]
    items.sort(key=lambda i: (i.due_at is None, i.due_at.timestamp() if i.due_at else 0.0))
    start = (page - 1) * page_size
    return Inbox(items=items[start : start + page_size], total=len(items), page=page, page_size=page_size)


async def agency_step(
    uow: RoutingUnitOfWork, calendar: WorkingCalendar, scope: Scope, dossier_id: UUID, step_id: str
) -> AgencyStep:
    """One step of the caller's agencies; another agency's is 404, like one that does not exist."""
    async with uow.read() as work:
        row = await work.routes.agency_step(dossier_id, step_id, scope)
    if row is None:
        raise not_found(f"no step {step_id} of dossier {dossier_id} among your agencies' steps")
    return agency_step_view(calendar, row)


async def route_of(uow: RoutingUnitOfWork, scope: Scope, dossier_id: UUID) -> RoutePublic:
    """The route and control sheet of a dossier the caller may see (received by one of their units
    or routed through one of their agencies). The sheet names officers and the dossier's handling:
    each read is in the audit trail."""
    async with uow() as work:
        dossier = await work.routes.dossier(dossier_id, scope)
        steps = await work.routes.steps(dossier_id) if dossier is not None else []
        if dossier is None or not steps:
            raise not_found(f"no route for dossier {dossier_id}")
        moves = await work.routes.handovers(dossier_id)
        await work.audit.read("route", [str(dossier_id)])
    return RoutePublic(
        dossier_id=dossier_id,
        dossier_code=dossier["dossier_code"],
        receiving_unit=dossier["receiving_unit"],
        phase=dossier["phase"],
        national_status=int(status_code(dossier["phase"])),
        steps=[StepPublic.model_validate(s) for s in steps],
        handovers=[HandoverPublic.model_validate(m) for m in moves],
    )
