"""Routing's typed FastAPI dependencies: what a route may ask for, taken from the service's wiring,
and who may call its routes (roles from the identity provider's token; their scope is applied in
the queries)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends

from routing.adapters.exchange import PortalClient, national_portal
from routing.application.actions import StepOfficer, step_officer
from routing.application.ports import RoutingUnitOfWork
from routing.domain.agencies import Agencies
from routing.settings import RoutingSettings
from services.calendar import WorkingCalendar
from services.events.envelope import current_actor
from services.identity import Role, role_caller
from services.web import wired

SettingsDep = Annotated[RoutingSettings, Depends(wired("settings"))]
UnitOfWorkDep = Annotated[RoutingUnitOfWork, Depends(wired("uow"))]
CalendarDep = Annotated[WorkingCalendar, Depends(wired("calendar"))]
AgenciesDep = Annotated[Agencies, Depends(wired("agencies"))]

# The agencies' steps: their officers, their own systems (client credentials), the province administrator.
StepsCaller = role_caller(Role.SPECIALIST, Role.AGENCY_SYSTEM, Role.PROVINCE_ADMIN)
# A dossier's route and control sheet: the counter and unit leaders of the receiving unit, the
# officers of the agencies on its route, the province administrator.
RouteReader = role_caller(Role.COUNTER, Role.LEADER, Role.SPECIALIST, Role.PROVINCE_ADMIN)
# The LGSP relaying an agency system's signed step result.
LgspCaller = role_caller(Role.LGSP)
OperatorCaller = role_caller(Role.OPERATOR)


async def acting_officer(caller: StepsCaller, agencies: AgenciesDep) -> StepOfficer:
    """The caller as the officer acting on a step. An agency's system is named by its agency on the
    step and in the control sheet, so its events and audit rows name it the same way."""
    officer = step_officer(caller, agencies)
    if officer.name != caller.name:
        current_actor.set(caller.actor.model_copy(update={"name": officer.name}))
    return officer


StepOfficerDep = Annotated[StepOfficer, Depends(acting_officer)]


async def get_portal(settings: SettingsDep) -> AsyncIterator[PortalClient | None]:
    """The national portal's client for this request; None when NATIONAL_PORTAL_URL is not set."""
    if not settings.portal_url:
        yield None
        return
    async with national_portal(settings) as portal:
        yield portal


PortalDep = Annotated[PortalClient | None, Depends(get_portal)]
