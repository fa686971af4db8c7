"""Intake's database access: code allocation, locking a dossier, the timeline, search."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from intake.adapters.tables import dossiers, supplement_requests, timeline
from intake.domain.dossier import FINAL_STATUSES, PAUSED_STATUSES
from services.db import driver_connection, insert_row


async def next_sequence(engine: AsyncEngine, unit_code: str, day: date) -> int:
    """The next dossier-code sequence of a unit for a Vietnam day, unique across replicas.

    Allocated in a transaction of its own: concurrent receipts queue on the counter's row lock
    for one statement, not for each other's whole receipt (which capped a unit at one receipt per
    commit latency). A receipt that fails after this leaves its number unused; none repeats.
    One statement in autocommit: one round trip, no BEGIN/COMMIT."""
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        driver = (await conn.get_raw_connection()).driver_connection
        return await driver.fetchval(
            "INSERT INTO intake.code_sequences (unit_code, day, last) VALUES ($1, $2, 1) "
            "ON CONFLICT (unit_code, day) DO UPDATE SET last = code_sequences.last + 1 RETURNING last",
            unit_code,
            day,
        )


async def lock_dossier(session: AsyncSession, dossier_id: UUID) -> dict[str, Any] | None:
    row = (await session.execute(select(dossiers).where(dossiers.c.id == dossier_id).with_for_update())).mappings().first()
    return dict(row) if row else None


async def lock_for_event(session: AsyncSession, dossier_id: UUID) -> dict[str, Any] | None:
    """The columns another service's event can change or needs, locked; not the whole row (its
    procedure snapshot, applicant and documents are JSON a timeline entry never reads)."""
    row = await (await driver_connection(session)).fetchrow(
        "SELECT status, resume_status, current_agency_code, current_agency_name, appointment_at, "
        "procedure_snapshot->'steps' AS steps FROM intake.dossiers WHERE id = $1 FOR UPDATE",
        dossier_id,
    )
    if row is None:
        return None
    return {**row, "steps": row["steps"] or []}


async def add_timeline(
    session: AsyncSession,
    dossier_id: UUID,
    *,
    at: datetime,
    kind: str,
    label: str,
    detail: dict[str, Any],
    event_id: UUID | None,
    public: bool = True,
) -> None:
    await insert_row(
        session,
        timeline,
        {
            "dossier_id": dossier_id,
            "at": at,
            "kind": kind,
            "label": label,
            "detail": detail,
            "event_id": event_id,
            "public": public,
        },
    )


async def read_timeline(session: AsyncSession, dossier_id: UUID, *, public_only: bool = False) -> list[dict[str, Any]]:
    query = select(timeline.c.at, timeline.c.kind, timeline.c.label, timeline.c.detail).where(timeline.c.dossier_id == dossier_id)
    if public_only:
        query = query.where(timeline.c.public.is_(True))
    return [dict(r) for r in (await session.execute(query.order_by(timeline.c.at, timeline.c.id))).mappings().all()]


async def read_supplements(session: AsyncSession, dossier_id: UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(supplement_requests).where(supplement_requests.c.dossier_id == dossier_id).order_by(supplement_requests.c.id)
    )
    return [dict(r) for r in rows.mappings().all()]


async def open_supplement_request(session: AsyncSession, dossier_id: UUID) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                select(supplement_requests)
                .where(supplement_requests.c.dossier_id == dossier_id, supplement_requests.c.received_at.is_(None))
                .order_by(supplement_requests.c.id.desc())
                .limit(1)
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


# ------------------------------------------------------------------ staff search


def encode_cursor(received_at: datetime, dossier_id: UUID) -> str:
    raw = json.dumps([received_at.isoformat(), str(dossier_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """Raises ValueError on anything that is not a cursor this service issued."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    at, dossier_id = json.loads(raw)
    return datetime.fromisoformat(at), UUID(dossier_id)


def overdue_clause(now: datetime) -> Any:
    """Overdue: deadline said so, or the appointment passed while the dossier is neither closed, ready nor paused."""
    not_waiting = [*FINAL_STATUSES, *PAUSED_STATUSES, 9]
    return or_(
        and_(dossiers.c.overdue.is_(True), dossiers.c.status.notin_([int(s) for s in FINAL_STATUSES])),
        and_(dossiers.c.appointment_at < now, dossiers.c.status.notin_([int(s) for s in not_waiting])),
    )


def search_filters(
    *,
    status: list[int] | None,
    procedure_code: str | None,
    field_code: str | None,
    agency_code: str | None,
    channel: int | None,
    received_from: datetime | None,
    received_to: datetime | None,
    overdue: bool | None,
    q: str | None,
    now: datetime,
) -> list[Any]:
    clauses: list[Any] = []
    if status:
        clauses.append(dossiers.c.status.in_(status))
    if procedure_code:
        clauses.append(dossiers.c.procedure_code == procedure_code)
    if field_code:
        clauses.append(dossiers.c.field_code == field_code)
    if agency_code:
        clauses.append(or_(dossiers.c.agency_code == agency_code, dossiers.c.current_agency_code == agency_code))
    if channel:
        clauses.append(dossiers.c.channel == channel)
    if received_from:
        clauses.append(dossiers.c.received_at >= received_from)
    if received_to:
        clauses.append(dossiers.c.received_at < received_to)
    if overdue is not None:
        clause = overdue_clause(now)
        clauses.append(clause if overdue else ~clause)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append(or_(dossiers.c.applicant_name.ilike(pattern), dossiers.c.code.ilike(pattern)))
    return clauses


async def search(
    session: AsyncSession, clauses: list[Any], *, limit: int, cursor: tuple[datetime, UUID] | None, now: datetime
) -> tuple[list[dict[str, Any]], int, dict[int, int], int]:
    """A page (newest first, keyset on received_at and id), the total, the count per status and
    the overdue count, all for the same filters."""
    page_query = select(dossiers, overdue_clause(now).label("is_overdue")).where(*clauses)
    if cursor is not None:
        page_query = page_query.where(tuple_(dossiers.c.received_at, dossiers.c.id) < tuple_(cursor[0], cursor[1]))
    rows = (
        (await session.execute(page_query.order_by(dossiers.c.received_at.desc(), dossiers.c.id.desc()).limit(limit + 1)))
        .mappings()
        .all()
    )
    by_status = {
        int(s): int(n)
        for s, n in (
            await session.execute(select(dossiers.c.status, func.count()).where(*clauses).group_by(dossiers.c.status))
        ).all()
    }
    overdue_count = (
        await session.execute(select(func.count()).select_from(dossiers).where(*clauses, overdue_clause(now)))
    ).scalar_one()
    return [dict(r) for r in rows], sum(by_status.values()), by_status, int(overdue_count)
