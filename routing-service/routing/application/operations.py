"""The operator's side (the IT centre): LGSP deliveries and national portal pushes as they stand,
an undelivered step sent again now, and the audit log with the check of its hash chain."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from routing.application.ports import RoutingUnitOfWork
from routing.schemas import AuditRecord, DeliveryPublic, PortalPushPublic
from services.identity import Principal
from services.problems import Problem, not_found

LISTED = 1000  # at most this many rows in a listing


async def list_deliveries(uow: RoutingUnitOfWork, *, state: str | None, undelivered: bool) -> list[DeliveryPublic]:
    async with uow.read() as work:
        rows = await work.routes.deliveries(state=state, undelivered=undelivered, limit=LISTED)
    return [DeliveryPublic.model_validate(r) for r in rows]


async def resend_delivery(uow: RoutingUnitOfWork, delivery_id: int, operator: Principal) -> DeliveryPublic:
    """Send an undelivered (or given-up) step again now, with its attempts counted afresh; 409 once
    delivered. The audit log names the operator who asked."""
    async with uow() as work:
        row = await work.routes.resend(delivery_id, datetime.now(UTC))
        if row is None:
            current = await work.routes.delivery(delivery_id)
            if current is None:
                raise not_found(f"no delivery {delivery_id}")
            raise Problem(409, "Conflict", "already delivered", type="illegal-transition", state=current["state"])
        await work.routes.audit(
            "operator.resend",
            operator.name,
            dossier_id=row["dossier_id"],
            step_id=row["step_id"],
            request_id=str(row["request_id"]),
            subject=operator.subject,
        )
    return DeliveryPublic.model_validate(row)


async def list_portal_pushes(uow: RoutingUnitOfWork, *, state: str | None, dossier_id: UUID | None) -> list[PortalPushPublic]:
    async with uow.read() as work:
        rows = await work.routes.portal_pushes(state=state, dossier_id=dossier_id, limit=LISTED)
    return [PortalPushPublic.model_validate(r) for r in rows]


async def audit_records(uow: RoutingUnitOfWork, *, dossier_id: UUID | None, after_id: int, limit: int) -> list[AuditRecord]:
    """The audit log, oldest first, from after `after_id`; a dossier's records only when named."""
    async with uow.read() as work:
        rows = await work.routes.audit_records(dossier_id=dossier_id, after_id=after_id, limit=limit)
    return [AuditRecord.model_validate(r) for r in rows]


async def verify_audit(uow: RoutingUnitOfWork) -> dict[str, Any]:
    """Recompute the hash chain: the first record changed, or after a removed one, is named."""
    async with uow.read() as work:
        check = await work.routes.verify_audit()
    return {"records": check.records, "intact": check.intact, "first_broken_id": check.first_broken_id}
