"""The procedure catalogue as the portals and the counter read it."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from intake.domain.catalogue import Procedure, Unit, load_catalogue
from services.problems import Problem
from services.web import RuntimeDep

router = APIRouter(prefix="/catalogue", tags=["catalogue"])


class ProcedureSummary(BaseModel):
    code: str
    name: str
    field: str
    field_name: str
    level: str
    competent_agency: str
    budget_hours: float
    fully_online: bool
    channels: list[int]


class CataloguePublic(BaseModel):
    version: str
    published_on: str | None
    units: list[Unit]
    procedures: list[ProcedureSummary]


@router.get("", response_model=CataloguePublic, summary="The catalogue's version, receiving units and active procedures")
async def catalogue(runtime: RuntimeDep) -> CataloguePublic:
    c = load_catalogue(runtime.settings.catalogue_path)
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
async def procedure(code: str, runtime: RuntimeDep) -> Procedure:
    found = load_catalogue(runtime.settings.catalogue_path).get(code)
    if found is None:
        raise Problem(404, "Not found", f"no procedure {code!r} in the catalogue", type="not-found")
    return found
