"""Intake's typed FastAPI dependencies: what a route may ask for, taken from the service's wiring,
and who may call it (a caller holding none of the roles is refused 403; what a caller then sees is
narrowed to their units by the queries)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from intake.adapters.lgsp_clients import LgspClient
from intake.application.lookup import LookupLimit
from intake.application.ports import IntakeUnitOfWork
from intake.domain.catalogue import Catalogue
from intake.settings import IntakeSettings
from services.calendar import WorkingCalendar
from services.identity import Role, role_caller
from services.web import wired

SettingsDep = Annotated[IntakeSettings, Depends(wired("settings"))]
UnitOfWorkDep = Annotated[IntakeUnitOfWork, Depends(wired("uow"))]
CatalogueDep = Annotated[Catalogue, Depends(wired("catalogue"))]
CalendarDep = Annotated[WorkingCalendar, Depends(wired("calendar"))]
LookupLimitDep = Annotated[LookupLimit, Depends(wired("lookup_limit"))]
LgspClientsDep = Annotated[dict[str, LgspClient], Depends(wired("lgsp_clients"))]

# Receiving: a counter officer at their units, the province administrator anywhere, the provincial portal online dossiers.
ReceivingCaller = role_caller(Role.COUNTER, Role.PROVINCE_ADMIN, Role.PORTAL)
# Reading dossiers, receipts and the search: the counter and the unit's leaders (their units), the province (all).
ReadingCaller = role_caller(Role.COUNTER, Role.LEADER, Role.PROVINCE_ADMIN)
# The counter's commands on a received dossier.
CounterCaller = role_caller(Role.COUNTER, Role.PROVINCE_ADMIN)
# Dossiers filed elsewhere, posted through the LGSP (signed besides).
LgspCaller = role_caller(Role.LGSP)
# A citizen's personal-data requests (export, erasure): the system's operator.
OperatorCaller = role_caller(Role.OPERATOR)
