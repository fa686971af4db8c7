"""Intake's typed FastAPI dependencies: what a route may ask for, taken from the service's wiring."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from intake.adapters.lgsp_clients import LgspClient
from intake.application.lookup import LookupLimit
from intake.application.ports import IntakeUnitOfWork
from intake.domain.catalogue import Catalogue
from intake.settings import IntakeSettings
from services.calendar import WorkingCalendar
from services.web import wired

SettingsDep = Annotated[IntakeSettings, Depends(wired("settings"))]
UnitOfWorkDep = Annotated[IntakeUnitOfWork, Depends(wired("uow"))]
CatalogueDep = Annotated[Catalogue, Depends(wired("catalogue"))]
CalendarDep = Annotated[WorkingCalendar, Depends(wired("calendar"))]
LookupLimitDep = Annotated[LookupLimit, Depends(wired("lookup_limit"))]
LgspClientsDep = Annotated[dict[str, LgspClient], Depends(wired("lgsp_clients"))]
