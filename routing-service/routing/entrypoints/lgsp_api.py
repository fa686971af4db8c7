"""Inbound from the LGSP: an agency's own system posts its step results to us. Every request is
signed (HMAC-SHA256 over timestamp, nonce and body, with the agency's key); unsigned, badly signed,
stale or replayed requests are refused and logged, and the body is validated like any input."""

from __future__ import annotations

import time
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.dialects.postgresql import insert as pg_insert

from routing.adapters import audit
from routing.adapters.tables import inbound_nonces
from routing.entrypoints.agency_api import AgencyStep, perform
from routing.handling import Command, agencies_of
from services.problems import Problem, field_name
from services.signing import fresh, signature_valid
from services.web import RuntimeDep

router = APIRouter(prefix="/lgsp", tags=["lgsp"])


class StepResultIn(BaseModel):
    """What an agency's system reports about one of its steps."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "request_id": "ca-xa-2026-000183",
                    "dossier_id": "6f1c9a52-3c1e-4c59-9d0e-2f7b1a0c4e11",
                    "step_id": "residence",
                    "action": "complete",
                    "officer": "Đại úy Phạm Minh",
                    "result_documents": ["doc://cu-tru/2026-183"],
                }
            ]
        },
    )

    request_id: str = Field(min_length=1, max_length=128, description="The sender's id; echoed in the answer.")
    dossier_id: UUID
    step_id: str = Field(min_length=1, max_length=64)
    action: Literal["accept", "complete", "return", "supplement", "refuse"]
    officer: str = Field(min_length=1, max_length=200)
    result_documents: list[str] = Field(default_factory=list)
    note: str | None = None
    reason: str | None = None
    items: list[str] = Field(default_factory=list)
    to_step_id: str | None = None


class StepResultAnswer(BaseModel):
    request_id: str
    status: Literal[1] = 1
    step: AgencyStep


async def _refuse(runtime: RuntimeDep, status: int, title: str, detail: str, client_id: str | None, problem_type: str) -> Problem:
    async with runtime.sessionmaker() as session, session.begin():
        await audit.append(session, "lgsp.inbound_refused", client_id or "unknown", reason=detail)
    return Problem(status, title, detail, type=problem_type)


@router.post(
    "/step-results",
    response_model=StepResultAnswer,
    summary="A step result from an agency's system, signed (HMAC over body + timestamp + nonce)",
)
async def step_result(
    request: Request,
    runtime: RuntimeDep,
    # Optional in the schema so that a request without its credentials is 401, like a bad signature, not 422.
    client_id: str | None = Header(None, alias="X-Client-Id", max_length=128),
    timestamp: str | None = Header(None, alias="X-Timestamp", description="Unix seconds.", max_length=32),
    nonce: str | None = Header(None, alias="X-Nonce", min_length=8, max_length=128),
    signature: str | None = Header(
        None, alias="X-Signature", description="Hex HMAC-SHA256 of `timestamp\\nnonce\\nbody`.", max_length=128
    ),
) -> StepResultAnswer:
    body = await request.body()
    agency = agencies_of(runtime).by_client.get(client_id) if client_id else None
    secret = agency.inbound_secret if agency else None
    if (
        agency is None
        or secret is None
        or timestamp is None
        or nonce is None
        or signature is None
        or not signature_valid(secret, body, timestamp, nonce, signature)
    ):
        raise await _refuse(runtime, 401, "Unauthorized", "unknown client or bad signature", client_id, "bad-signature")
    if not fresh(timestamp, time.time(), runtime.settings.inbound_max_skew_seconds):  # type: ignore[attr-defined]
        raise await _refuse(
            runtime, 401, "Unauthorized", "stale request: timestamp outside the allowed window", client_id, "stale-request"
        )
    async with runtime.sessionmaker() as session, session.begin():
        first = (
            await session.execute(
                pg_insert(inbound_nonces)
                .values(client_id=client_id, nonce=nonce)
                .on_conflict_do_nothing()
                .returning(inbound_nonces.c.nonce)
            )
        ).first()
        if first is not None:
            await audit.append(session, "lgsp.inbound", agency.code, size=len(body))
    if first is None:
        raise await _refuse(runtime, 409, "Replayed request", "this nonce was already used", client_id, "replayed-request")
    try:
        result = StepResultIn.model_validate_json(body)
    except ValidationError as exc:
        errors = [{"field": field_name(tuple(e["loc"])), "message": e["msg"], "code": e["type"]} for e in exc.errors()]
        raise Problem(
            422, "Invalid request", "; ".join(f"{e['field']}: {e['message']}" for e in errors), type="validation", errors=errors
        ) from None
    command = Command(
        result.action,
        result.officer,
        note=result.note,
        reason=result.reason,
        result_documents=result.result_documents,
        items=result.items,
        to_step_id=result.to_step_id,
    )
    if result.action in ("return", "refuse") and not result.reason:
        raise Problem(
            422,
            "Invalid request",
            "reason: required for this action",
            type="validation",
            errors=[{"field": "reason", "message": "required for this action", "code": "missing"}],
        )
    if result.action == "supplement" and not result.items:
        raise Problem(
            422,
            "Invalid request",
            "items: at least one item",
            type="validation",
            errors=[{"field": "items", "message": "at least one item", "code": "too_short"}],
        )
    step = await perform(runtime, agency.code, result.dossier_id, result.step_id, command, channel="lgsp")
    return StepResultAnswer(request_id=result.request_id, step=step)
