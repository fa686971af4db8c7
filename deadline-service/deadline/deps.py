"""Deadline's typed FastAPI dependencies: what a route may ask for, taken from the service's wiring."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from deadline.application.ports import DeadlineUnitOfWork
from deadline.domain.clock import ClockRules
from deadline.settings import DeadlineSettings
from services.web import wired

SettingsDep = Annotated[DeadlineSettings, Depends(wired("settings"))]
UnitOfWorkDep = Annotated[DeadlineUnitOfWork, Depends(wired("uow"))]
ClockRulesDep = Annotated[ClockRules, Depends(wired("rules"))]
