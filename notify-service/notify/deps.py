"""Notify's typed FastAPI dependencies: what a route may ask for, taken from the service's wiring,
who may read a dossier's notices, and the SMS gateway's callback token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query

from notify.application.ports import NotifyUnitOfWork
from notify.settings import NotifySettings
from services.identity import Role, role_caller
from services.problems import Problem
from services.web import same_secret, wired

SettingsDep = Annotated[NotifySettings, Depends(wired("settings"))]
UnitOfWorkDep = Annotated[NotifyUnitOfWork, Depends(wired("uow"))]

# A dossier's delivery log: the officers of the unit that received it (counter officers, unit
# leaders) and the province administrator.
NoticeReader = role_caller(Role.COUNTER, Role.LEADER, Role.PROVINCE_ADMIN)


async def require_callback_token(
    settings: SettingsDep,
    x_callback_token: Annotated[str | None, Header()] = None,
    token: Annotated[str | None, Query(description="Alternative to the X-Callback-Token header.")] = None,
) -> None:
    """The gateway is not in the identity provider: its callbacks carry NOTIFY_SMS_RECEIPT_TOKEN
    (header or query). Deny by default: with no token configured every callback is refused."""
    expected = settings.sms_receipt_token
    if not expected:
        raise Problem(
            401, "Unauthorized", "delivery receipts are not accepted: no callback token is configured", type="unauthorized"
        )
    if not same_secret(x_callback_token or token or "", expected):
        raise Problem(401, "Unauthorized", "callback token required", type="unauthorized")


GatewayOnly = [Depends(require_callback_token)]
