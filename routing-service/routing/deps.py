"""Routing's typed FastAPI dependencies: what a route may ask for, taken from the service's wiring,
and the agency a request acts for (its bearer token from POST /oauth/token)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from routing.adapters.exchange import PortalClient, national_portal
from routing.adapters.tokens import AgencyTokens
from routing.application.ports import RoutingUnitOfWork
from routing.application.tokens import unauthorized
from routing.domain.agencies import Agencies
from routing.settings import RoutingSettings
from services.calendar import WorkingCalendar
from services.web import wired

log = logging.getLogger(__name__)
_bearer = HTTPBearer(auto_error=False)


SettingsDep = Annotated[RoutingSettings, Depends(wired("settings"))]
UnitOfWorkDep = Annotated[RoutingUnitOfWork, Depends(wired("uow"))]
CalendarDep = Annotated[WorkingCalendar, Depends(wired("calendar"))]
AgenciesDep = Annotated[Agencies, Depends(wired("agencies"))]
TokensDep = Annotated[AgencyTokens, Depends(wired("tokens"))]


async def get_portal(settings: SettingsDep) -> AsyncIterator[PortalClient | None]:
    """The national portal's client for this request; None when NATIONAL_PORTAL_URL is not set."""
    if not settings.portal_url:
        yield None
        return
    async with national_portal(settings) as portal:
        yield portal


PortalDep = Annotated[PortalClient | None, Depends(get_portal)]


async def current_agency(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)], tokens: TokensDep, agencies: AgenciesDep
) -> str:
    """The code of the agency the bearer token was issued to; 401 without a valid, unexpired token."""
    if credentials is None:
        raise unauthorized("a bearer token from POST /oauth/token is required")
    code = tokens.agency_of(credentials.credentials)
    if code is None or code not in agencies.by_code:
        log.warning("agency request refused: the bearer token is invalid or expired")
        raise unauthorized("the token is invalid or expired")
    return code


AgencyDep = Annotated[str, Depends(current_agency)]
