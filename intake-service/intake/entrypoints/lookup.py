"""Citizen look-up (tra cứu hồ sơ) by dossier code and the secret printed on the receipt: public,
limited per client address."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from intake.application.lookup import TooManyLookups, look_up
from intake.deps import LookupLimitDep, SettingsDep, UnitOfWorkDep
from intake.schemas import LookupIn, LookupResult
from services.problems import problem_response

router = APIRouter(prefix="/lookup", tags=["citizen look-up"])


def client_of(request: Request, trusted_proxies: str) -> str:
    """The caller's address; behind a trusted reverse proxy, the last address it appended."""
    peer = request.client.host if request.client else "unknown"
    if peer in {p.strip() for p in trusted_proxies.split(",") if p.strip()}:
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1][:100]
    return peer[:100]


@router.post(
    "",
    response_model=LookupResult,
    summary="Where is my dossier: status, appointment and timeline, by dossier code and secret",
    responses={
        404: {"description": "No dossier with this code and secret (which of the two is wrong is not said)."},
        429: {"description": "Too many look-ups from this client; retry after `Retry-After` seconds."},
    },
)
async def lookup(body: LookupIn, request: Request, uow: UnitOfWorkDep, limit: LookupLimitDep, settings: SettingsDep) -> Any:
    try:
        return await look_up(uow, limit, client_of(request, settings.trusted_proxies), body.code, body.secret)
    except TooManyLookups as exc:
        return problem_response(
            429,
            "Too many look-ups",
            str(exc),
            type="rate-limited",
            instance=request.url.path,
            headers={"Retry-After": str(exc.retry_after)},
            retry_after=exc.retry_after,
        )
