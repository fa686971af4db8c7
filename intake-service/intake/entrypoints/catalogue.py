"""The procedure catalogue as the portals and the counter read it."""

from __future__ import annotations

from fastapi import APIRouter

from intake.deps import CatalogueDep
from intake.domain.catalogue import Procedure
from intake.schemas import CataloguePublic, ProcedureSummary
from services.problems import not_found

router = APIRouter(prefix="/catalogue", tags=["catalogue"])


@router.get("", response_model=CataloguePublic, summary="The catalogue's version, receiving units and active procedures")
async def catalogue(c: CatalogueDep) -> CataloguePublic:
    return CataloguePublic(
        version=c.version,
        published_on=c.published_on,
        units=c.units,
        procedures=[
            ProcedureSummary(
                code=p.code,
                name=p.name,
                field=p.field,
                field_name=c.field_name(p.field),
                level=p.level,
                competent_agency=p.competent_agency.name,
                budget_hours=p.budget_hours,
                fully_online=p.fully_online,
                channels=list(p.channels),
            )
            for p in c.procedures
            if p.active
        ],
    )


@router.get("/procedures/{code}", response_model=Procedure, summary="One procedure: documents, fees, budget, cut-off, route")
async def procedure(code: str, c: CatalogueDep) -> Procedure:
    found = c.get(code)
    if found is None:
        raise not_found(f"no procedure {code!r} in the catalogue")
    return found
