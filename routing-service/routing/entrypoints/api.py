"""Routing's REST API (read side for now): a dossier's route and its handovers."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from routing.adapters.tables import handovers, route_steps
from services.problems import Problem
from services.web import RuntimeDep

router = APIRouter(prefix="/dossiers", tags=["routes"])


class StepPublic(BaseModel):
    step_id: str
    agency_code: str
    agency_name: str
    budget_hours: float
    after: list[str]
    state: str
    assigned_at: datetime | None
    completed_at: datetime | None


class HandoverPublic(BaseModel):
    step_id: str
    from_party: str
    to_party: str
    at: datetime
    actor: str
    action: str
    note: str | None


class RoutePublic(BaseModel):
    dossier_id: UUID
    steps: list[StepPublic]
    handovers: list[HandoverPublic]


@router.get("/{dossier_id}/route", response_model=RoutePublic, summary="A dossier's route and control sheet (form 5)")
async def get_route(dossier_id: UUID, runtime: RuntimeDep) -> RoutePublic:
    async with runtime.sessionmaker() as session:
        steps = (
            await session.execute(select(route_steps).where(route_steps.c.dossier_id == dossier_id).order_by(route_steps.c.position))
        ).mappings().all()
        if not steps:
            raise Problem(404, "Not found", f"no route for dossier {dossier_id}", type="not-found")
        moves = (
            await session.execute(select(handovers).where(handovers.c.dossier_id == dossier_id).order_by(handovers.c.id))
        ).mappings().all()
    return RoutePublic(
        dossier_id=dossier_id,
        steps=[StepPublic.model_validate(dict(s)) for s in steps],
        handovers=[HandoverPublic.model_validate(dict(m)) for m in moves],
    )
