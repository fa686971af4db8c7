"""Routing's public read side, for staff: a dossier's route, its control sheet (form 5), its phase
and national status code."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from routing.application.reading import route_of
from routing.deps import UnitOfWorkDep
from routing.schemas import RoutePublic
from services.identity import OfficersOnly

router = APIRouter(prefix="/dossiers", tags=["routes"], dependencies=OfficersOnly)


@router.get("/{dossier_id}/route", response_model=RoutePublic, summary="A dossier's route and control sheet (form 5)")
async def get_route(dossier_id: UUID, uow: UnitOfWorkDep) -> RoutePublic:
    return await route_of(uow, dossier_id)
