"""Dossiers posted to us through the LGSP (trục liên thông): filed on the national portal or on
another province's system. The LGSP calls with its access token (role `lgsp`), and every request is signed (`services.inbound`, with the client's key from
INTAKE_LGSP_CLIENTS_FILE); unsigned, badly signed, stale or replayed requests are refused and
logged, and the body is the same DossierCreate the counter sends, checked and received by the same
use case. The nonce is the delivery's idempotency key: a retried delivery (same nonce, same body)
answers with the first dossier and never creates a second."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import Counter
from pydantic import ValidationError

from intake.application.receiving import Claim, receive_dossier
from intake.deps import CalendarDep, CatalogueDep, LgspCaller, LgspClientsDep, SettingsDep, UnitOfWorkDep
from intake.schemas import BIRTH_EXAMPLE, DossierCreate, LgspDossierAnswer
from services.idempotency import KeyReused
from services.inbound import Refused, SignedRequestDep, verify
from services.logging import fields, request_id_var
from services.problems import Problem, field_error, invalid, invalid_body
from services.vocabulary import Channel

router = APIRouter(prefix="/lgsp", tags=["lgsp"])
log = logging.getLogger(__name__)
INBOUND = Counter("motcua_intake_lgsp_inbound_total", "Signed dossier deliveries from the LGSP by outcome.", ["outcome"])
INBOUND.labels("received")  # shown from the start, so a refusal ratio has a denominator


def logged(problem: Problem, client_id: str | None) -> Problem:
    """Every refusal is counted and logged (with the request id, which every log line carries)."""
    reason = problem.type or "refused"
    INBOUND.labels(reason).inc()
    log.warning(
        "lgsp dossier refused: %s",
        problem.detail,
        extra=fields(client_id=client_id or "unknown", status=problem.status, reason=reason),
    )
    return problem


@router.post(
    "/dossiers",
    status_code=201,
    response_model=LgspDossierAnswer,
    summary="A dossier filed elsewhere (national portal, another province), through the LGSP, signed (HMAC over body + timestamp + nonce)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/DossierCreate"},
                    "example": {**BIRTH_EXAMPLE, "channel": int(Channel.ONLINE)},
                }
            },
        }
    },
    responses={
        200: {"description": "This delivery was received before (same nonce, same body): its dossier, nothing new."},
        401: {
            "description": "No valid access token; or an unknown client, missing or bad signature, or a stale timestamp (logged); nothing changed."
        },
        403: {"description": "The token is not the LGSP's."},
        409: {"description": "The nonce was already used with another body; logged, nothing changed."},
        422: {"description": "Invalid dossier (each field named); nothing changed."},
    },
)
async def receive_from_lgsp(
    principal: LgspCaller,
    signed: SignedRequestDep,
    response: Response,
    uow: UnitOfWorkDep,
    catalogue: CatalogueDep,
    calendar: CalendarDep,
    settings: SettingsDep,
    clients: LgspClientsDep,
) -> Any:
    client = clients.get(signed.client_id) if signed.client_id else None
    try:
        request = verify(signed, client.secret if client else None, max_skew_seconds=settings.inbound_max_skew_seconds)
    except Refused as refused:
        raise logged(Problem(401, "Unauthorized", refused.detail, type=refused.reason), signed.client_id) from None
    try:
        dossier = DossierCreate.model_validate_json(request.body)
    except ValidationError as exc:
        raise logged(invalid_body(exc), request.client_id) from None
    if dossier.channel != Channel.ONLINE:
        raise logged(
            invalid([field_error("channel", "a dossier through the LGSP is filed online (2)", "channel")]), request.client_id
        )
    claim = Claim("lgsp", (request.client_id, request.nonce))
    try:
        received = await receive_dossier(uow, catalogue, calendar, settings.code_pattern, dossier, principal, claim)
    except KeyReused:
        problem = Problem(409, "Replayed request", "this nonce was already used for another body", type="replayed-request")
        raise logged(problem, request.client_id) from None
    except Problem as problem:
        raise logged(problem, request.client_id) from None
    INBOUND.labels("replayed" if received.replayed else "received").inc()
    result = json.loads(received.body)
    if received.replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    else:
        log.info("lgsp dossier received", extra=fields(client_id=request.client_id, dossier_id=result["id"], code=result["code"]))
    return LgspDossierAnswer(
        request_id=request_id_var.get() or "",
        id=result["id"],
        code=result["code"],
        status=result["status"],
        appointment_at=result["appointment_at"],
        lookup_secret=result["lookup_secret"],
        replayed=received.replayed,
    )
