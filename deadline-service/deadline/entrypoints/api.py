"""Deadline's REST API (read side for now): the due times tracked for a dossier."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from deadline.adapters.tables import deadlines
from services.problems import Problem
from services.web import RuntimeDep

router = APIRouter(prefix="/dossiers", tags=["deadlines"])


class DeadlinePublic(BaseModel):
    scope: str
    step_id: str
    agency_code: str | None
    started_at: datetime
    due_at: datetime
    budget_hours: float
    state: str


@router.get("/{dossier_id}/deadlines", response_model=list[DeadlinePublic], summary="Due times of a dossier and its steps")
async def get_deadlines(dossier_id: UUID, runtime: RuntimeDep) -> list[DeadlinePublic]:
    async with runtime.sessionmaker() as session:
        rows = (
            await session.execute(select(deadlines).where(deadlines.c.dossier_id == dossier_id).order_by(deadlines.c.started_at, deadlines.c.step_id))
        ).mappings().all()
    if not rows:
        raise Problem(404, "Not found", f"no deadlines for dossier {dossier_id}", type="not-found")
    return [DeadlinePublic.model_validate(dict(r)) for r in rows]
