"""The agencies' REST API: OAuth2 client credentials, then the inbox of the agency's own steps and
every action on them. Another agency's step answers 404, exactly like a step that does not exist."""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from routing.adapters import audit, tokens
from routing.adapters.tables import dossiers, route_steps
from routing.domain.steps import OPEN
from routing.handling import Command, InvalidCommand, Routing, StepConflict, StepNotFound, agencies_of
from services.calendar import working_calendar
from services.problems import Problem
from services.runtime import Runtime
from services.web import RuntimeDep

router = APIRouter(tags=["agencies"])
log = logging.getLogger(__name__)
_bearer = HTTPBearer(auto_error=False)
_calendar = working_calendar()


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def current_agency(
    runtime: RuntimeDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str:
    if credentials is None:
        raise _unauthorized("a bearer token from POST /oauth/token is required")
    code = tokens.agency_of(tokens.signing_key(runtime.settings.jwt_secret), credentials.credentials)  # type: ignore[attr-defined]
    if code is None or code not in agencies_of(runtime).by_code:
        log.warning("agency request refused: the bearer token is invalid or expired")
        raise _unauthorized("the token is invalid or expired")
    return code


AgencyDep = Annotated[str, Depends(current_agency)]


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


_TOKEN_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "client_id": {"type": "string", "description": "Or HTTP Basic authentication."},
                        "client_secret": {"type": "string"},
                    },
                },
                "example": {"grant_type": "client_credentials", "client_id": "ubnd-xa", "client_secret": "…"},
            }
        },
    }
}


@router.post(
    "/oauth/token",
    response_model=TokenResponse,
    tags=["auth"],
    summary="OAuth2 client credentials: a short-lived token for an agency",
    openapi_extra=_TOKEN_FORM,
)
async def token(request: Request, runtime: RuntimeDep) -> TokenResponse:
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _unauthorized("malformed basic credentials") from None
    if form.get("grant_type") != "client_credentials":
        raise Problem(
            400,
            "Unsupported grant type",
            "grant_type must be client_credentials",
            type="unsupported-grant-type",
            errors=[{"field": "grant_type", "message": "must be client_credentials"}],
        )
    agency = agencies_of(runtime).by_client.get(client_id or "")
    expected = agency.client_secret if agency else None
    granted = (
        agency is not None and expected is not None and secrets.compare_digest((client_secret or "").encode(), expected.encode())
    )
    async with runtime.sessionmaker() as session, session.begin():
        await audit.append(session, "auth.token_issued" if granted else "auth.token_refused", (client_id or "unknown")[:64])
    if not granted or agency is None:
        raise _unauthorized("unknown client or wrong secret")
    ttl = runtime.settings.token_ttl_seconds  # type: ignore[attr-defined]
    return TokenResponse(
        access_token=tokens.issue(tokens.signing_key(runtime.settings.jwt_secret), agency.code, agency.client_id, ttl),
        expires_in=ttl,
    )  # type: ignore[attr-defined]


# ---------------------------------------------------------------- inbox


class AgencyStep(BaseModel):
    dossier_id: UUID
    dossier_code: str
    procedure_code: str
    procedure_name: str
    step_id: str
    agency_code: str
    department: str | None
    state: str
    officer: str | None
    budget_hours: float
    assigned_at: datetime | None
    due_at: datetime | None = Field(
        description="The step's budget in working time from assignment (pauses are the deadline service's to count)."
    )
    completed_at: datetime | None
    result_documents: list[str]
    note: str | None


class Inbox(BaseModel):
    items: list[AgencyStep]
    total: int
    page: int
    page_size: int


def _public(row: dict[str, Any], dossier: dict[str, Any]) -> AgencyStep:
    due = (
        _calendar.add_working_hours(_calendar.clock_start(row["assigned_at"]), row["budget_hours"])
        if row["assigned_at"]
        else None
    )
    return AgencyStep(**{**dossier, **row, "due_at": due})


async def _dossier_fields(runtime: Runtime, ids: set[UUID]) -> dict[UUID, dict[str, Any]]:
    async with runtime.sessionmaker() as session:
        rows = (
            (
                await session.execute(
                    select(
                        dossiers.c.dossier_id, dossiers.c.dossier_code, dossiers.c.procedure_code, dossiers.c.procedure_name
                    ).where(dossiers.c.dossier_id.in_(ids))
                )
            )
            .mappings()
            .all()
        )
    return {r["dossier_id"]: dict(r) for r in rows}


@router.get("/agency/steps", response_model=Inbox, summary="The agency's inbox: its steps, filtered and paged, with due times")
async def inbox(
    runtime: RuntimeDep,
    agency: AgencyDep,
    state: Annotated[list[str] | None, Query(description="Step states; default every open state.")] = None,
    procedure_code: str | None = None,
    dossier_code: str | None = None,
    due_before: datetime | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Inbox:
    states = set(state) if state else set(OPEN)
    async with runtime.sessionmaker() as session:
        rows = (
            (
                await session.execute(
                    select(route_steps)
                    .where(route_steps.c.agency_code == agency, route_steps.c.state.in_(states))
                    .order_by(route_steps.c.assigned_at, route_steps.c.dossier_id)
                )
            )
            .mappings()
            .all()
        )
    info = await _dossier_fields(runtime, {r["dossier_id"] for r in rows})
    items = [_public(dict(r), info[r["dossier_id"]]) for r in rows if r["dossier_id"] in info]
    if procedure_code:
        items = [i for i in items if i.procedure_code == procedure_code]
    if dossier_code:
        items = [i for i in items if i.dossier_code == dossier_code]
    if due_before:
        items = [i for i in items if i.due_at is not None and i.due_at <= due_before]
    items.sort(key=lambda i: (i.due_at is None, i.due_at.timestamp() if i.due_at else 0.0))
    start = (page - 1) * page_size
    return Inbox(items=items[start : start + page_size], total=len(items), page=page, page_size=page_size)


@router.get("/agency/steps/{dossier_id}/{step_id}", response_model=AgencyStep, summary="One of the agency's steps")
async def one_step(dossier_id: UUID, step_id: str, runtime: RuntimeDep, agency: AgencyDep) -> AgencyStep:
    async with runtime.sessionmaker() as session:
        row = (
            (
                await session.execute(
                    select(route_steps).where(route_steps.c.dossier_id == dossier_id, route_steps.c.step_id == step_id)
                )
            )
            .mappings()
            .first()
        )
    if row is None or row["agency_code"] != agency:
        raise Problem(404, "Not found", f"no step {step_id} of dossier {dossier_id} for agency {agency}", type="not-found")
    info = await _dossier_fields(runtime, {dossier_id})
    return _public(dict(row), info[dossier_id])


# ---------------------------------------------------------------- actions


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    officer: str = Field(min_length=1, max_length=200, description="The officer acting (cán bộ xử lý).")


class AcceptBody(_Body):
    note: str | None = None
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"officer": "Trần Văn Hùng"}]})


class CompleteBody(_Body):
    result_documents: list[str] = Field(
        default_factory=list, description="References to result documents, e.g. `doc://birth-cert/123`."
    )
    note: str | None = None
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "officer": "Trần Văn Hùng",
                    "result_documents": ["doc://trich-luc-khai-sinh/2026-1183"],
                    "note": "Đã đăng ký khai sinh",
                }
            ]
        },
    )


class ReturnBody(_Body):
    reason: str = Field(min_length=1)
    to_step_id: str | None = Field(None, description="Default: the last previous step.")
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"officer": "Lê Thị Mai", "reason": "Trích lục sai năm sinh của mẹ"}]}
    )


class SupplementBody(_Body):
    items: list[str] = Field(min_length=1, description="Every missing or incomplete item (Phiếu yêu cầu bổ sung).")
    reason: str | None = None
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"officer": "Lê Thị Mai", "items": ["Bản sao giấy chứng nhận kết hôn"]}]}
    )


class FeeBody(_Body):
    amount_vnd: int = Field(ge=0)
    description: str = Field(min_length=1)
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"officer": "Lê Thị Mai", "amount_vnd": 500000, "description": "Lệ phí trước bạ"}]},
    )


class FeePaymentBody(_Body):
    amount_vnd: int = Field(ge=0)
    receipt_ref: str | None = None
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"officer": "Lê Thị Mai", "amount_vnd": 500000, "receipt_ref": "BL-2026-0042"}]},
    )


class ReasonBody(_Body):
    reason: str = Field(min_length=1, description="The reason; for a refusal, the legal ground.")
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"officer": "Lê Thị Mai", "reason": "Không thuộc trường hợp đăng ký thường trú (Điều 20 Luật Cư trú 2020)"}
            ]
        },
    )


class ResumeBody(_Body):
    note: str | None = None
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"officer": "Lê Thị Mai"}]})


class TransferBody(_Body):
    to_agency_code: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"officer": "Lê Thị Mai", "to_agency_code": "BHXH", "reason": "Không thuộc thẩm quyền"}]},
    )


async def perform(
    runtime: Runtime, agency: str, dossier_id: UUID, step_id: str, command: Command, channel: str = "api"
) -> AgencyStep:
    try:
        async with runtime.sessionmaker() as session, session.begin():
            row = await Routing(runtime).act(session, agency, dossier_id, step_id, command, channel)
    except StepNotFound:
        # Another agency's step (or none at all): refused, and recorded, since it may be a probe.
        async with runtime.sessionmaker() as session, session.begin():
            await audit.append(
                session,
                "step.action_refused",
                agency,
                dossier_id=dossier_id,
                step_id=step_id[:64],
                action=command.action,
                channel=channel,
                reason="no such step for this agency",
            )
        raise Problem(
            404, "Not found", f"no step {step_id} of dossier {dossier_id} for agency {agency}", type="not-found"
        ) from None
    except StepConflict as exc:
        raise Problem(409, "Conflict", str(exc), type="illegal-transition", state=exc.state) from None
    except InvalidCommand as exc:
        raise Problem(
            422,
            "Invalid request",
            f"{exc.field}: {exc}",
            type="validation",
            errors=[{"field": exc.field, "message": str(exc), "code": "invalid"}],
        ) from None
    info = await _dossier_fields(runtime, {dossier_id})
    return _public(row, info[dossier_id])


StepPath = "/agency/steps/{dossier_id}/{step_id}"


@router.post(f"{StepPath}/accept", response_model=AgencyStep, summary="Take the step on (tiếp nhận)")
async def accept(dossier_id: UUID, step_id: str, body: AcceptBody, runtime: RuntimeDep, agency: AgencyDep) -> AgencyStep:
    return await perform(runtime, agency, dossier_id, step_id, Command("accept", body.officer, note=body.note))


@router.post(
    f"{StepPath}/complete",
    response_model=AgencyStep,
    summary="Complete the step with its result documents; the next steps are assigned",
)
async def complete(dossier_id: UUID, step_id: str, body: CompleteBody, runtime: RuntimeDep, agency: AgencyDep) -> AgencyStep:
    return await perform(
        runtime,
        agency,
        dossier_id,
        step_id,
        Command("complete", body.officer, note=body.note, result_documents=body.result_documents),
    )


@router.post(f"{StepPath}/return", response_model=AgencyStep, summary="Return the dossier to the previous step, with a reason")
async def return_step(dossier_id: UUID, step_id: str, body: ReturnBody, runtime: RuntimeDep, agency: AgencyDep) -> AgencyStep:
    return await perform(
        runtime, agency, dossier_id, step_id, Command("return", body.officer, reason=body.reason, to_step_id=body.to_step_id)
    )


@router.post(
    f"{StepPath}/supplement", response_model=AgencyStep, summary="Ask the citizen for more documents (status 5; the clock pauses)"
)
async def supplement(dossier_id: UUID, step_id: str, body: SupplementBody, runtime: RuntimeDep, agency: AgencyDep) -> AgencyStep:
    return await perform(
        runtime, agency, dossier_id, step_id, Command("supplement", body.officer, items=body.items, reason=body.reason)
    )


@router.post(
    f"{StepPath}/fee", response_model=AgencyStep, summary="Ask the citizen to pay fees or taxes (status 6; the clock pauses)"
)
async def fee(dossier_id: UUID, step_id: str, body: FeeBody, runtime: RuntimeDep, agency: AgencyDep) -> AgencyStep:
    return await perform(
        runtime,
        agency,
        dossier_id,
        step_id,
        Command("fee", body.officer, amount_vnd=body.amount_vnd, description=body.description),
    )


@router.post(f"{StepPath}/fee-payment", response_model=AgencyStep, summary="Record the payment; handling resumes")
async def fee_payment(dossier_id: UUID, step_id: str, body: FeePaymentBody, runtime: RuntimeDep, agency: AgencyDep) -> AgencyStep:
    return await perform(
        runtime,
        agency,
        dossier_id,
        step_id,
        Command("fee_paid", body.officer, amount_vnd=body.amount_vnd, receipt_ref=body.receipt_ref),
    )


@router.post(f"{StepPath}/refuse", response_model=AgencyStep, summary="Refuse the dossier with its legal reason (status 3)")
async def refuse(dossier_id: UUID, step_id: str, body: ReasonBody, runtime: RuntimeDep, agency: AgencyDep) -> AgencyStep:
    return await perform(runtime, agency, dossier_id, step_id, Command("refuse", body.officer, reason=body.reason))


@router.post(f"{StepPath}/stop", response_model=AgencyStep, summary="Stop handling (status 8; the clock pauses)")
async def stop(dossier_id: UUID, step_id: str, body: ReasonBody, runtime: RuntimeDep, agency: AgencyDep) -> AgencyStep:
    return await perform(runtime, agency, dossier_id, step_id, Command("stop", body.officer, reason=body.reason))


@router.post(f"{StepPath}/resume", response_model=AgencyStep, summary="Resume handling after a stop")
async def resume(dossier_id: UUID, step_id: str, body: ResumeBody, runtime: RuntimeDep, agency: AgencyDep) -> AgencyStep:
    return await perform(runtime, agency, dossier_id, step_id, Command("resume", body.officer, note=body.note))


@router.post(f"{StepPath}/transfer", response_model=AgencyStep, summary="Transfer a misrouted step to the competent agency")
async def transfer(dossier_id: UUID, step_id: str, body: TransferBody, runtime: RuntimeDep, agency: AgencyDep) -> AgencyStep:
    return await perform(
        runtime,
        agency,
        dossier_id,
        step_id,
        Command("transfer", body.officer, reason=body.reason, to_agency_code=body.to_agency_code),
    )
