"""Inbound from the LGSP: an agency's own system posts its step results to us. The LGSP calls with
its token from the identity provider (role lgsp), and every request is also signed (`services.inbound`: HMAC-SHA256 over timestamp, nonce and body, with the agency's key);
unsigned, badly signed, stale or replayed requests are refused and recorded in the audit log, and
the body is validated like any input. The nonce is spent only by a request that was applied."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import ValidationError

from routing.application.actions import Signed, apply_step_result, refuse_request
from routing.deps import AgenciesDep, CalendarDep, LgspCaller, SettingsDep, UnitOfWorkDep
from routing.schemas import StepResultAnswer, StepResultIn
from services.inbound import Refused, SignedRequestDep, verify
from services.problems import Problem, invalid_body

router = APIRouter(prefix="/lgsp", tags=["lgsp"])


@router.post(
    "/step-results",
    response_model=StepResultAnswer,
    summary="A step result from an agency's system, signed (HMAC over body + timestamp + nonce)",
)
async def step_result(
    _caller: LgspCaller,
    signed: SignedRequestDep,
    uow: UnitOfWorkDep,
    calendar: CalendarDep,
    agencies: AgenciesDep,
    settings: SettingsDep,
) -> StepResultAnswer:
    agency = agencies.by_client.get(signed.client_id) if signed.client_id else None
    try:
        request = verify(signed, agency.inbound_secret if agency else None, max_skew_seconds=settings.inbound_max_skew_seconds)
    except Refused as refused:
        raise await refuse_request(
            uow, signed.client_id, Problem(401, "Unauthorized", refused.detail, type=refused.reason)
        ) from None
    assert agency is not None  # verified with its key
    try:
        result = StepResultIn.model_validate_json(request.body)
    except ValidationError as exc:
        raise await refuse_request(uow, request.client_id, invalid_body(exc)) from None
    return await apply_step_result(
        uow, calendar, agency.code, Signed(request.client_id, request.nonce, len(request.body)), result
    )
