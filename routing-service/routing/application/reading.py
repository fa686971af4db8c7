"""What agencies and staff read: an agency's inbox of its own steps (filtered, paged, soonest due
first) and one of its steps, each with its due time in working time; a dossier's route with its
control sheet (Phiếu kiểm soát quá trình giải quyết hồ sơ, form 5), phase and national status."""

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
from services.problems import not_found


@dataclass(frozen=True)
class InboxFilters:
    states: list[str] | None = None  # default: every open state
    procedure_code: str | None = None
    dossier_code: str | None = None
    due_before: datetime | None = None


def agency_step_view(calendar: WorkingCalendar, row: Mapping[str, Any]) -> AgencyStep:
    """A step as its agency sees it (the row carries its dossier's code and procedure)."""
    return AgencyStep(**{**row, "due_at": step_due_at(calendar, row["assigned_at"], row["budget_hours"])})


async def agency_inbox(
    uow: RoutingUnitOfWork, calendar: WorkingCalendar, agency_code: str, filters: InboxFilters, *, page: int, page_size: int
) -> Inbox:
    """The agency's steps, soonest due first (those not yet assigned last)."""
    states = sorted(set(filters.states) if filters.states else OPEN)
    async with uow.read() as work:
        rows = await work.routes.agency_steps(
            agency_code, states, procedure_code=filters.procedure_code, dossier_code=filters.dossier_code
        )
    items = [agency_step_view(calendar, row) for row in rows]
    if filters.due_before:
        items = [i for i in items if i.due_at is not None and i.due_at <= filters.due_before]
    items.sort(key=lambda i: (i.due_at is None, i.due_at.timestamp() if i.due_at else 0.0))
    start = (page - 1) * page_size
    return Inbox(items=items[start : start + page_size], total=len(items), page=page, page_size=page_size)


async def agency_step(
    uow: RoutingUnitOfWork, calendar: WorkingCalendar, agency_code: str, dossier_id: UUID, step_id: str
) -> AgencyStep:
    """One of the agency's steps; another agency's is 404, like one that does not exist."""
    async with uow.read() as work:
        row = await work.routes.agency_step(dossier_id, step_id)
    if row is None or row["agency_code"] != agency_code:
        raise not_found(f"no step {step_id} of dossier {dossier_id} for agency {agency_code}")
    return agency_step_view(calendar, row)


async def route_of(uow: RoutingUnitOfWork, dossier_id: UUID) -> RoutePublic:
    async with uow.read() as work:
        steps = await work.routes.steps(dossier_id)
        if not steps:
            raise not_found(f"no route for dossier {dossier_id}")
        dossier = await work.routes.dossier(dossier_id)
        moves = await work.routes.handovers(dossier_id)
    return RoutePublic(
        dossier_id=dossier_id,
        dossier_code=dossier["dossier_code"] if dossier else None,
        phase=dossier["phase"] if dossier else None,
        national_status=int(status_code(dossier["phase"])) if dossier else None,
        steps=[StepPublic.model_validate(s) for s in steps],
        handovers=[HandoverPublic.model_validate(m) for m in moves],
    )
