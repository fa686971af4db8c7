"""Routing's read side for staff: a dossier's route, its control sheet (form 5), its phase and
national status code, for the officers whose units received it or whose agencies are on its route
(the province administrator: every dossier). Any other dossier answers 404."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from routing.application.reading import route_of
from routing.deps import RouteReader, UnitOfWorkDep
from routing.schemas import RoutePublic

router = APIRouter(prefix="/dossiers", tags=["routes"])


@router.get("/{dossier_id}/route", response_model=RoutePublic, summary="A dossier's route and control sheet (form 5)")
async def get_route(dossier_id: UUID, uow: UnitOfWorkDep, caller: RouteReader) -> RoutePublic:
    return await route_of(uow, caller.scope, dossier_id)
