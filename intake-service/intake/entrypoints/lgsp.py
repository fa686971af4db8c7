"""Dossiers posted to us through the LGSP (trục liên thông): filed on the national portal or on
another province's system. Every request is signed (HMAC-SHA256 over timestamp, nonce and body,
with the client's key from INTAKE_LGSP_CLIENTS_FILE); unsigned, badly signed, stale or replayed
requests are refused and logged, and the body is the same DossierCreate the counter sends, checked
and received by the same code. The nonce is the delivery's idempotency key: a retried delivery
(same nonce, same body) answers with the first dossier and never creates a second."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Header, Request, Response
from prometheus_client import Counter
from pydantic import BaseModel, Field, ValidationError

from intake.adapters.lgsp_clients import load_clients
from intake.adapters.tables import inbound_nonces
from intake.entrypoints.api import Claim, invalid, receive_once
from intake.entrypoints.schemas import BIRTH_EXAMPLE, DossierCreate
from services.logging import fields, request_id_var
from services.problems import Problem, field_name
from services.signing import fresh, signature_valid
from services.web import RuntimeDep

router = APIRouter(prefix="/lgsp", tags=["lgsp"])
log = logging.getLogger(__name__)
INBOUND = Counter("motcua_intake_lgsp_inbound_total", "Signed dossier deliveries from the LGSP by outcome.", ["outcome"])
ONLINE = 2


class LgspDossierAnswer(BaseModel):
    request_id: str = Field(description="The caller's X-Request-ID, echoed.")
    id: UUID
    code: str = Field(description="Số hồ sơ, `<unit>-YYMMDD-XXXX`.")
    status: int = Field(description="National portal status code (1–10).")
    appointment_at: datetime = Field(description="Ngày hẹn trả kết quả.")
    replayed: bool = Field(False, description="True when this delivery was received before (same nonce, same body).")


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


def refuse(status: int, title: str, detail: str, problem_type: str, client_id: str | None) -> Problem:
    return logged(Problem(status, title, detail, type=problem_type), client_id)


def nonce_replayed() -> Problem:
    return Problem(409, "Replayed request", "this nonce was already used for another body", type="replayed-request")


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
                    "example": {**BIRTH_EXAMPLE, "channel": ONLINE},
                }
            },
        }
    },
    responses={
        200: {"description": "This delivery was received before (same nonce, same body): its dossier, nothing new."},
        401: {"description": "Unknown client, missing or bad signature, or a stale timestamp; logged, nothing changed."},
        409: {"description": "The nonce was already used with another body; logged, nothing changed."},
        422: {"description": "Invalid dossier (each field named); nothing changed."},
    },
)
async def receive_from_lgsp(
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    # Optional in the schema so that a request without its credentials is 401, like a bad signature, not 422.
    client_id: str | None = Header(None, alias="X-Client-Id", max_length=64),
    timestamp: str | None = Header(None, alias="X-Timestamp", description="Unix seconds.", max_length=32),
    nonce: str | None = Header(
        None, alias="X-Nonce", min_length=8, max_length=128, description="Unique per delivery; a retry reuses it."
    ),
    signature: str | None = Header(
        None, alias="X-Signature", description="Hex HMAC-SHA256 of `timestamp\\nnonce\\nbody`.", max_length=128
    ),
) -> Any:
    body = await request.body()
    settings = runtime.settings
    client = load_clients(settings.lgsp_clients_file).get(client_id) if client_id else None  # type: ignore[attr-defined]
    secret = client.secret if client else None
    if (
        secret is None
        or timestamp is None
        or nonce is None
        or signature is None
        or not signature_valid(secret, body, timestamp, nonce, signature)
    ):
        raise refuse(401, "Unauthorized", "unknown client or bad signature", "bad-signature", client_id)
    if not fresh(timestamp, time.time(), settings.inbound_max_skew_seconds):  # type: ignore[attr-defined]
        raise refuse(401, "Unauthorized", "stale request: timestamp outside the allowed window", "stale-request", client_id)
    try:
        dossier = DossierCreate.model_validate_json(body)
    except ValidationError as exc:
        errors = [{"field": field_name(tuple(e["loc"])), "message": e["msg"], "code": e["type"]} for e in exc.errors()]
        raise logged(invalid(errors), client_id) from None
    if dossier.channel != ONLINE:
        raise logged(
            invalid([{"field": "channel", "message": "a dossier through the LGSP is filed online (2)", "code": "channel"}]),
            client_id,
        )
    assert client_id is not None
    try:
        result, replayed = await receive_once(
            runtime, dossier, Claim(inbound_nonces, {"client_id": client_id, "nonce": nonce}, nonce_replayed)
        )
    except Problem as problem:
        raise logged(problem, client_id) from None
    INBOUND.labels("replayed" if replayed else "received").inc()
    if replayed:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    else:
        log.info("lgsp dossier received", extra=fields(client_id=client_id, dossier_id=result["id"], code=result["code"]))
    return LgspDossierAnswer(
        request_id=request_id_var.get() or "",
        id=result["id"],
        code=result["code"],
        status=result["status"],
        appointment_at=result["appointment_at"],
        replayed=replayed,
    )
