"""Notify's typed FastAPI dependencies: what a route may ask for, taken from the service's wiring,
and the SMS gateway's callback token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query

from notify.application.ports import NotifyUnitOfWork
from notify.settings import NotifySettings
from services.problems import Problem
from services.web import same_secret, wired

SettingsDep = Annotated[NotifySettings, Depends(wired("settings"))]
UnitOfWorkDep = Annotated[NotifyUnitOfWork, Depends(wired("uow"))]


async def require_callback_token(
    settings: SettingsDep,
    x_callback_token: Annotated[str | None, Header()] = None,
    token: Annotated[str | None, Query(description="Alternative to the X-Callback-Token header.")] = None,
) -> None:
    """The gateway's callbacks carry NOTIFY_SMS_RECEIPT_TOKEN (header or query) when it is set."""
    expected = settings.sms_receipt_token
    if expected is not None and not same_secret(x_callback_token or token or "", expected):
        raise Problem(401, "Unauthorized", "callback token required", type="unauthorized")


GatewayOnly = [Depends(require_callback_token)]
