"""Intake's typed FastAPI dependencies: what a route may ask for, taken from the service's wiring."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from intake.adapters.lgsp_clients import LgspClient
from intake.application.lookup import LookupLimit
from intake.application.ports import IntakeUnitOfWork
from intake.domain.catalogue import Catalogue
from intake.settings import IntakeSettings
from services.calendar import WorkingCalendar
from services.web import wiring_of


async def get_settings(request: Request) -> IntakeSettings:
    return wiring_of(request).settings


async def get_uow(request: Request) -> IntakeUnitOfWork:
    return wiring_of(request).uow


async def get_catalogue(request: Request) -> Catalogue:
    return wiring_of(request).catalogue


async def get_calendar(request: Request) -> WorkingCalendar:
    return wiring_of(request).calendar


async def get_lookup_limit(request: Request) -> LookupLimit:
    return wiring_of(request).lookup_limit


async def get_lgsp_clients(request: Request) -> dict[str, LgspClient]:
    return wiring_of(request).lgsp_clients


SettingsDep = Annotated[IntakeSettings, Depends(get_settings)]
UnitOfWorkDep = Annotated[IntakeUnitOfWork, Depends(get_uow)]
CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
CalendarDep = Annotated[WorkingCalendar, Depends(get_calendar)]
LookupLimitDep = Annotated[LookupLimit, Depends(get_lookup_limit)]
LgspClientsDep = Annotated[dict[str, LgspClient], Depends(get_lgsp_clients)]
