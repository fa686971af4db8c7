"""What staff read: a dossier with its supplements and timeline, its receipt (form 1), and the
search over the dossiers of their units with filters, cursor pagination and counts (`q`: part of
a dossier code, or the exact citizen id, phone or full name of the applicant — a partial name is
no longer searchable, names being sealed at rest). The repository opens the sealed applicant. Each read of
a dossier's personal data is written to the audit trail with the reader, one row per dossier."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from intake.application.ports import DossierRepository, IntakeUnitOfWork, SearchFilters
from intake.domain.timeline import RETURN_LABELS
from intake.schemas import (
    DossierPublic,
    DossierSummary,
    Receipt,
    ReceiptDocument,
    ReceiptFee,
    SearchCounts,
    SearchPage,
    SupplementPublic,
    TimelineEntry,
)
from services.events import Actor
from services.formatting import format_datetime
from services.identity import Scope
from services.problems import Problem, field_error, invalid, not_found
from services.vocabulary import Channel, PortalStatus


def encode_cursor(received_at: datetime, dossier_id: UUID) -> str:
    raw = json.dumps([received_at.isoformat(), str(dossier_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """Raises ValueError on anything that is not a cursor this service issued."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    at, dossier_id = json.loads(raw)
    return datetime.fromisoformat(at), UUID(dossier_id)


async def _public(dossiers: DossierRepository, row: dict[str, Any]) -> DossierPublic:
    entries = await dossiers.timeline(row["id"])
    supplements = await dossiers.supplements(row["id"])
    current = PortalStatus(row["status"])
    return DossierPublic(
        id=row["id"],
        code=row["code"],
        procedure_code=row["procedure_code"],
        procedure_name=row["procedure_name"],
        field_code=row["field_code"],
        catalogue_version=row["catalogue_version"],
        receiving_unit=row["receiving_unit"],
        channel=row["channel"],
        status=current,
        status_label=current.label,
        received_at=row["received_at"],
        appointment_at=row["appointment_at"],
        overdue=row["overdue"],
        current_agency=row["current_agency_name"],
        returned_at=row["returned_at"],
        return_method=row["return_method"],
        rating=row["rating"],
        closing_reason=row["closing_reason"],
        received_by=received_by(row),
        supplements=[SupplementPublic.model_validate(s) for s in supplements],
        timeline=[TimelineEntry.model_validate(e) for e in entries],
    )


def received_by(row: dict[str, Any]) -> Actor | None:
    if row.get("received_by_kind") is None:
        return None  # received before who received was recorded
    return Actor(
        kind=row["received_by_kind"],
        subject=row["received_by_subject"],
        name=row["received_by_name"],
        unit=row["received_by_unit"],
    )


def no_dossier(dossier_id: UUID) -> Problem:
    """The same answer whether the dossier does not exist or is another unit's."""
    return not_found(f"no dossier {dossier_id}")


async def get_dossier(uow: IntakeUnitOfWork, scope: Scope, dossier_id: UUID) -> DossierPublic:
    async with uow() as work:
        row = await work.dossiers.get(dossier_id, scope)
        if row is None:
            raise no_dossier(dossier_id)
        public = await _public(work.dossiers, row)
        await work.audit.read("dossier", [str(dossier_id)])
    return public


async def receipt(uow: IntakeUnitOfWork, scope: Scope, dossier_id: UUID, public_base_url: str, *, form: str) -> Receipt:
    """Giấy tiếp nhận hồ sơ và hẹn trả kết quả (form 1), from what was recorded at the receipt;
    `form` (json, html) is what the audit trail records was read."""
    async with uow() as work:
        row = await work.dossiers.get(dossier_id, scope)
        if row is None:
            raise no_dossier(dossier_id)
        await work.audit.read("receipt", [str(dossier_id)], form=form)
    snapshot, applicant = row["procedure_snapshot"], row["applicant"]
    officer = received_by(row)
    return Receipt(
        dossier_code=row["code"],
        lookup_secret=row["lookup_secret"],
        unit_code=row["receiving_unit"],
        unit_name=snapshot.get("unit_name", row["receiving_unit"]),
        applicant_name=applicant["name"],
        applicant_phone=applicant.get("phone"),
        applicant_email=applicant.get("email"),
        procedure_code=row["procedure_code"],
        procedure_name=row["procedure_name"],
        field_name=snapshot.get("field_name", row["field_code"]),
        channel=row["channel"],
        channel_label=Channel(row["channel"]).label,
        documents=[ReceiptDocument.model_validate(d) for d in row["documents"]],
        fees=[ReceiptFee(name=f["name"], amount_vnd=f["amount_vnd"]) for f in snapshot.get("fees", [])],
        received_at=row["received_at"],
        appointment_at=row["appointment_at"],
        received_at_local=format_datetime(row["received_at"]),
        appointment_at_local=format_datetime(row["appointment_at"]),
        return_place=RETURN_LABELS[applicant.get("result_delivery", "counter")],
        lookup_url=f"{public_base_url}/tra-cuu?ma={row['code']}",
        catalogue_version=row["catalogue_version"],
        received_by=officer.name if officer else None,
    )


async def search_dossiers(
    uow: IntakeUnitOfWork, scope: Scope, filters: SearchFilters, *, limit: int, cursor: str | None
) -> SearchPage:
    """Newest first; 422 naming each filter at fault (naive dates, unknown statuses, a foreign cursor)."""
    errors = [
        field_error(name, "needs a UTC offset", "naive_datetime")
        for name, value in (("received_from", filters.received_from), ("received_to", filters.received_to))
        if value is not None and value.tzinfo is None
    ]
    errors += [
        field_error("status", f"{s} is not a status code (1–10)", "unknown_status")
        for s in filters.status or []
        if not 1 <= s <= 10
    ]
    position = None
    if cursor is not None:
        try:
            position = decode_cursor(cursor)
        except (ValueError, TypeError):
            errors.append(field_error("cursor", "not a cursor from a previous page", "bad_cursor"))
    if errors:
        raise invalid(errors)
    async with uow() as work:
        found = await work.dossiers.search(filters, scope, limit=limit, cursor=position, now=datetime.now(UTC))
        page = found.rows[:limit]
        await work.audit.read("search", [str(r["id"]) for r in page])
    return SearchPage(
        items=[
            DossierSummary(
                **{k: r[k] for k in DossierSummary.model_fields if k in r and k not in ("overdue", "status_label")},
                status_label=PortalStatus(r["status"]).label,
                overdue=bool(r["is_overdue"]),
            )
            for r in page
        ],
        next_cursor=encode_cursor(page[-1]["received_at"], page[-1]["id"]) if len(found.rows) > limit else None,
        counts=SearchCounts(
            total=sum(found.by_status.values()),
            by_status={str(k): v for k, v in sorted(found.by_status.items())},
            overdue=found.overdue,
        ),
    )
