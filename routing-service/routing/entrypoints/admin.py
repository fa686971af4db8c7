"""Routing's operator endpoints: LGSP deliveries (undelivered ones, and sending one again), national
portal pushes and reconciliation, the audit log and the check of its hash chain."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from routing.application import operations
from routing.application.exchange import reconcile_portal
from routing.application.ports import ExchangeError
from routing.deps import OperatorCaller, PortalDep, UnitOfWorkDep
from routing.schemas import AuditRecord, DeliveryPublic, PortalPushPublic
from services.identity import OperatorOnly
from services.problems import Problem

router = APIRouter(prefix="/admin", tags=["operations"], dependencies=OperatorOnly)


@router.get(
    "/deliveries",
    response_model=list[DeliveryPublic],
    summary="Steps sent (or still to send) to agencies' systems through the LGSP",
)
async def list_deliveries(uow: UnitOfWorkDep, state: str | None = None, undelivered: bool = False) -> list[DeliveryPublic]:
    return await operations.list_deliveries(uow, state=state, undelivered=undelivered)


@router.post("/deliveries/{delivery_id}/resend", response_model=DeliveryPublic, summary="Send an undelivered step again now")
async def resend(delivery_id: int, uow: UnitOfWorkDep, operator: OperatorCaller) -> DeliveryPublic:
    return await operations.resend_delivery(uow, delivery_id, operator)


@router.get(
    "/portal/pushes", response_model=list[PortalPushPublic], summary="Updates pushed (or still to push) to the national portal"
)
async def list_pushes(uow: UnitOfWorkDep, state: str | None = None, dossier_id: UUID | None = None) -> list[PortalPushPublic]:
    return await operations.list_portal_pushes(uow, state=state, dossier_id=dossier_id)


@router.post("/portal/reconcile", summary="Compare every recent dossier with the national portal now and re-push what differs")
async def reconcile(uow: UnitOfWorkDep, portal: PortalDep) -> dict[str, int]:
    if portal is None:
        raise Problem(409, "Conflict", "national portal sync is not configured (NATIONAL_PORTAL_URL)", type="not-configured")
    try:
        return await reconcile_portal(uow, portal)
    except ExchangeError as exc:
        raise Problem(502, "Portal unreachable", str(exc), type="portal-unreachable") from None


@router.get("/audit", response_model=list[AuditRecord], summary="The audit log of exchanges and officer actions, oldest first")
async def audit_records(
    uow: UnitOfWorkDep,
    dossier_id: UUID | None = None,
    after_id: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[AuditRecord]:
    return await operations.audit_records(uow, dossier_id=dossier_id, after_id=after_id, limit=limit)


@router.get("/audit/verify", summary="Recompute the audit log's hash chain: any changed or removed record shows")
async def verify_audit(uow: UnitOfWorkDep) -> dict[str, Any]:
    return await operations.verify_audit(uow)
