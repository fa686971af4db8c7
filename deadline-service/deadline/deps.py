"""Deadline's typed FastAPI dependencies: what a route may ask for, taken from the service's wiring."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from deadline.application.ports import DeadlineUnitOfWork
from deadline.domain.clock import ClockRules
from deadline.settings import DeadlineSettings
from services.web import wiring_of


async def get_settings(request: Request) -> DeadlineSettings:
    return wiring_of(request).settings


async def get_uow(request: Request) -> DeadlineUnitOfWork:
    return wiring_of(request).uow


async def get_rules(request: Request) -> ClockRules:
    return wiring_of(request).rules


SettingsDep = Annotated[DeadlineSettings, Depends(get_settings)]
UnitOfWorkDep = Annotated[DeadlineUnitOfWork, Depends(get_uow)]
ClockRulesDep = Annotated[ClockRules, Depends(get_rules)]
