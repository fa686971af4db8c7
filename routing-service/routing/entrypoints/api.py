"""Routing's public read side (a dossier's route and control sheet) and its operator endpoints:
undelivered LGSP steps and their re-sending, national portal pushes and reconciliation, the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import httpx
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select, update

from routing.adapters import audit
from routing.adapters.exchange import ExchangeError
from routing.adapters.tables import audit_log, deliveries, dossiers, handovers, portal_pushes, route_steps
from routing.domain.national import status_code
from routing.entrypoints.workers import reconcile_portal
from services.problems import Problem
from services.web import RuntimeDep, StaffOnly, require_operator

router = APIRouter(prefix="/dossiers", tags=["routes"], dependencies=StaffOnly)
admin = APIRouter(prefix="/admin", tags=["operations"], dependencies=[Depends(require_operator)])


class StepPublic(BaseModel):
    step_id: str
    agency_code: str
    agency_name: str
    department: str | None
    budget_hours: float
    after: list[str]
    state: str
    officer: str | None
    assigned_at: datetime | None
    completed_at: datetime | None
    result_documents: list[str]


class HandoverPublic(BaseModel):
    step_id: str
    from_party: str
    to_party: str
    at: datetime
    actor: str
    action: str
    note: str | None


class RoutePublic(BaseModel):
    dossier_id: UUID
    dossier_code: str | None
    phase: str | None
    national_status: int | None
    steps: list[StepPublic]
    handovers: list[HandoverPublic]


@router.get("/{dossier_id}/route", response_model=RoutePublic, summary="A dossier's route and control sheet (form 5)")
async def get_route(dossier_id: UUID, runtime: RuntimeDep) -> RoutePublic:
    async with runtime.sessionmaker() as session:
        steps = (
            (
                await session.execute(
                    select(route_steps).where(route_steps.c.dossier_id == dossier_id).order_by(route_steps.c.position)
                )
            )
            .mappings()
            .all()
        )
        if not steps:
            raise Problem(404, "Not found", f"no route for dossier {dossier_id}", type="not-found")
        dossier = (await session.execute(select(dossiers).where(dossiers.c.dossier_id == dossier_id))).mappings().first()
        moves = (
            (await session.execute(select(handovers).where(handovers.c.dossier_id == dossier_id).order_by(handovers.c.id)))
            .mappings()
            .all()
        )
    return RoutePublic(
        dossier_id=dossier_id,
        dossier_code=dossier["dossier_code"] if dossier else None,
        phase=dossier["phase"] if dossier else None,
        national_status=status_code(dossier["phase"]) if dossier else None,
        steps=[StepPublic.model_validate(dict(s)) for s in steps],
        handovers=[HandoverPublic.model_validate(dict(m)) for m in moves],
    )


class DeliveryPublic(BaseModel):
    id: int
    request_id: UUID
    dossier_id: UUID
    step_id: str
    agency_code: str
    endpoint: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None


@admin.get(
    "/deliveries",
    response_model=list[DeliveryPublic],
    summary="Steps sent (or still to send) to agencies' systems through the LGSP",
)
async def list_deliveries(runtime: RuntimeDep, state: str | None = None, undelivered: bool = False) -> list[DeliveryPublic]:
    query = select(deliveries).order_by(deliveries.c.id)
    if undelivered:
        query = query.where(deliveries.c.state != "delivered")
    elif state:
        query = query.where(deliveries.c.state == state)
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(query.limit(1000))).mappings().all()
    return [DeliveryPublic.model_validate(dict(r)) for r in rows]


@admin.post("/deliveries/{delivery_id}/resend", response_model=DeliveryPublic, summary="Send an undelivered step again now")
async def resend(delivery_id: int, runtime: RuntimeDep) -> DeliveryPublic:
    async with runtime.sessionmaker() as session, session.begin():
        row = (
            (
                await session.execute(
                    update(deliveries)
                    .where(deliveries.c.id == delivery_id, deliveries.c.state != "delivered")
                    .values(state="pending", attempts=0, next_attempt_at=datetime.now(UTC))
                    .returning(*deliveries.c)
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            current = (await session.execute(select(deliveries.c.state).where(deliveries.c.id == delivery_id))).scalar()
            if current is None:
                raise Problem(404, "Not found", f"no delivery {delivery_id}", type="not-found")
            raise Problem(409, "Conflict", "already delivered", type="illegal-transition", state=current)
        await audit.append(
            session,
            "operator.resend",
            "operator",
            dossier_id=row["dossier_id"],
            step_id=row["step_id"],
            request_id=str(row["request_id"]),
        )
    return DeliveryPublic.model_validate(dict(row))


class PortalPushPublic(BaseModel):
    id: int
    dossier_id: UUID
    status_code: int
    state: str
    attempts: int
    last_error: str | None
    pushed_at: datetime | None
    payload: dict[str, Any]


@admin.get(
    "/portal/pushes", response_model=list[PortalPushPublic], summary="Updates pushed (or still to push) to the national portal"
)
async def list_pushes(runtime: RuntimeDep, state: str | None = None, dossier_id: UUID | None = None) -> list[PortalPushPublic]:
    query = select(portal_pushes).order_by(portal_pushes.c.id)
    if state:
        query = query.where(portal_pushes.c.state == state)
    if dossier_id:
        query = query.where(portal_pushes.c.dossier_id == dossier_id)
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(query.limit(1000))).mappings().all()
    return [PortalPushPublic.model_validate(dict(r)) for r in rows]


@admin.post("/portal/reconcile", summary="Compare every recent dossier with the national portal now and re-push what differs")
async def reconcile(runtime: RuntimeDep) -> dict[str, int]:
    settings = runtime.settings
    if not getattr(settings, "portal_url", None):
        raise Problem(409, "Conflict", "national portal sync is not configured (NATIONAL_PORTAL_URL)", type="not-configured")
    async with httpx.AsyncClient(timeout=settings.exchange_timeout_seconds) as client:  # type: ignore[attr-defined]
        try:
            return await reconcile_portal(runtime, client)
        except ExchangeError as exc:
            raise Problem(502, "Portal unreachable", str(exc), type="portal-unreachable") from None


class AuditRecord(BaseModel):
    id: int
    at: datetime
    entry: dict[str, Any]
    prev_hash: str
    hash: str


@admin.get("/audit", response_model=list[AuditRecord], summary="The audit log of exchanges and officer actions, oldest first")
async def audit_records(
    runtime: RuntimeDep,
    dossier_id: UUID | None = None,
    after_id: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[AuditRecord]:
    query = select(audit_log).where(audit_log.c.id > after_id).order_by(audit_log.c.id).limit(limit)
    if dossier_id:
        query = query.where(audit_log.c.entry["dossier_id"].astext == str(dossier_id))
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(query)).mappings().all()
    return [AuditRecord.model_validate(dict(r)) for r in rows]


@admin.get("/audit/verify", summary="Recompute the audit log's hash chain: any changed or removed record shows")
async def verify_audit(runtime: RuntimeDep) -> dict[str, Any]:
    async with runtime.sessionmaker() as session:
        return await audit.verify(session)
