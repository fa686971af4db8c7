"""The citizen's endpoints, public: look-up (tra cứu hồ sơ) and the satisfaction rating, each by
dossier code and the secret printed on the receipt, limited per client address (one limit for both)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from intake.application.lifecycle import rate_dossier
from intake.application.lookup import TooManyLookups, look_up
from intake.deps import LookupLimitDep, SettingsDep, UnitOfWorkDep
from intake.schemas import LookupIn, LookupResult, RatingIn, RatingPublic
from services.problems import problem_response

router = APIRouter(prefix="/lookup", tags=["citizen look-up"])

LIMITED = {429: {"description": "Too many look-ups or ratings from this client; retry after `Retry-After` seconds."}}


def client_of(request: Request, trusted_proxies: str) -> str:
    """The caller's address; behind a trusted reverse proxy, the last address it appended."""
    peer = request.client.host if request.client else "unknown"
    if peer in {p.strip() for p in trusted_proxies.split(",") if p.strip()}:
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1][:100]
    return peer[:100]


def too_many(exc: TooManyLookups, request: Request) -> JSONResponse:
    return problem_response(
        429,
        "Too many look-ups",
        str(exc),
        type="rate-limited",
        instance=request.url.path,
        headers={"Retry-After": str(exc.retry_after)},
        retry_after=exc.retry_after,
    )


@router.post(
    "",
    response_model=LookupResult,
    summary="Where is my dossier: status, appointment and timeline, by dossier code and secret",
    responses={404: {"description": "No dossier with this code and secret (which of the two is wrong is not said)."}, **LIMITED},
)
async def lookup(body: LookupIn, request: Request, uow: UnitOfWorkDep, limit: LookupLimitDep, settings: SettingsDep) -> Any:
    try:
        return await look_up(uow, limit, client_of(request, settings.trusted_proxies), body.code, body.secret)
    except TooManyLookups as exc:
        return too_many(exc, request)


@router.post(
    "/rating",
    status_code=status.HTTP_201_CREATED,
    response_model=RatingPublic,
    summary="The citizen rates their satisfaction, once, after the result was returned, by dossier code and secret",
    responses={
        404: {"description": "No dossier with this code and secret (which of the two is wrong is not said); nothing changed."},
        409: {"description": "The result is not returned yet, or the dossier is rated already (current status in the answer)."},
        **LIMITED,
    },
)
async def rate(body: RatingIn, request: Request, uow: UnitOfWorkDep, limit: LookupLimitDep, settings: SettingsDep) -> Any:
    client = client_of(request, settings.trusted_proxies)
    try:
        return await rate_dossier(uow, limit, client, body.code, body.secret, body.score, body.comment)
    except TooManyLookups as exc:
        return too_many(exc, request)
