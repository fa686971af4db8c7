"""Deadline's typed FastAPI dependencies: what a route may ask for, taken from the service's wiring,
and who may call it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from deadline.application.ports import DeadlineUnitOfWork
from deadline.domain.clock import ClockRules
from deadline.settings import DeadlineSettings
from services.identity import OFFICERS, Role, role_caller
from services.web import wired

SettingsDep = Annotated[DeadlineSettings, Depends(wired("settings"))]
UnitOfWorkDep = Annotated[DeadlineUnitOfWork, Depends(wired("uow"))]
ClockRulesDep = Annotated[ClockRules, Depends(wired("rules"))]

# A dossier's due times: any officer, within their scope (the dossier's receiving unit for counter
# officers and unit leaders, a step of the dossier for an agency's specialists, all for the province).
DossierReader = role_caller(*OFFICERS)
# The on-time report: unit leaders (their units) and the province administrator (every unit).
ReportReader = role_caller(Role.LEADER, Role.PROVINCE_ADMIN)
