"""All of intake's SQL: dossiers and their codes, the timeline, supplement requests, claimed
Idempotency-Keys and LGSP nonces, look-up counters, staff search. One repository per session;
the statements run for every receipt or event go to the driver directly (`services.db`).

What staff read or change is filtered by the caller's `Scope` in the statement itself: a dossier
received at a unit the caller does not serve is not found, exactly like one that does not exist."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters.tables import dossiers, idempotency_keys, inbound_nonces, lookup_attempts, supplement_requests, timeline
from intake.application.ports import ClaimStore, SearchFilters, SearchResult
from services.db import autocommit_connection, driver_connection, insert_row, update_row
from services.idempotency import Claims
from services.identity import Scope
from services.vocabulary import FINAL_STATUSES, PAUSED_STATUSES, PortalStatus

CLAIMS: dict[ClaimStore, Claims] = {
    "counter": Claims(idempotency_keys, ["key"], answer_columns=["dossier_id"]),
    "lgsp": Claims(inbound_nonces, ["client_id", "nonce"], answer_columns=["dossier_id"]),
}

NEXT_SEQUENCE = (
    "INSERT INTO intake.code_sequences (unit_code, day, last) VALUES ($1, $2, 1) "
    "ON CONFLICT (unit_code, day) DO UPDATE SET last = code_sequences.last + 1 RETURNING last"
)
LOCK_FOR_EVENT = (
    "SELECT status, resume_status, current_agency_code, current_agency_name, appointment_at, "
    "procedure_snapshot->'steps' AS steps FROM intake.dossiers WHERE id = $1 FOR UPDATE"
)
COUNT_LOOKUP = (
    "INSERT INTO intake.lookup_attempts (client, window_start, count) VALUES ($1, $2, 1) "
    "ON CONFLICT (client, window_start) DO UPDATE SET count = lookup_attempts.count + 1 RETURNING count"
)

PURGE_LOOKUPS = "DELETE FROM intake.lookup_attempts WHERE window_start < $1"


class IntakeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------ receiving

    async def answered(self, store: ClaimStore, key: tuple[str, ...], request_hash: str) -> str | None:
        """Before the transaction: the first answer of a request already carried out under this key."""
        return await CLAIMS[store].answered(await autocommit_connection(self.session), key, request_hash)

    async def next_sequence(self, unit_code: str, day: date) -> int:
        """The next dossier-code sequence of a unit for a Vietnam day, unique across replicas.

        Taken before the transaction, committed at once on the same connection: concurrent
        receipts queue on the counter's row lock for one statement, not for each other's whole
        receipt, and a receipt still takes one connection from the pool. A receipt that fails
        after this leaves its number unused; none repeats."""
        return int(await (await autocommit_connection(self.session)).fetchval(NEXT_SEQUENCE, unit_code, day))

    async def claim(self, store: ClaimStore, key: tuple[str, ...], request_hash: str) -> str | None:
        return await CLAIMS[store].claim(self.session, key, request_hash)

    async def answer(self, store: ClaimStore, key: tuple[str, ...], response: str, dossier_id: UUID) -> None:
        await CLAIMS[store].answer(self.session, key, response, dossier_id)

    async def add_dossier(self, values: Mapping[str, Any]) -> None:
        await insert_row(self.session, dossiers, values)

    async def add_timeline(
        self,
        dossier_id: UUID,
        *,
        at: datetime,
        kind: str,
        label: str,
        detail: Mapping[str, Any],
        event_id: UUID | None,
        public: bool = True,
    ) -> None:
        await insert_row(
            self.session,
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

    # ------------------------------------------------------------ changing a dossier

    async def lock(self, dossier_id: UUID, scope: Scope) -> dict[str, Any] | None:
        query = select(dossiers).where(dossiers.c.id == dossier_id, *_in_scope(scope)).with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        return dict(row) if row else None

    async def lock_by_code(self, code: str) -> dict[str, Any] | None:
        """For the citizen, who knows the code (and proves it with the secret): no unit to scope by."""
        row = (await self.session.execute(select(dossiers).where(dossiers.c.code == code).with_for_update())).mappings().first()
        return dict(row) if row else None

    async def lock_for_event(self, dossier_id: UUID) -> dict[str, Any] | None:
        """The columns another service's event can change or needs, locked; not the whole row (its
        procedure snapshot, applicant and documents are JSON a timeline entry never reads)."""
        row = await (await driver_connection(self.session)).fetchrow(LOCK_FOR_EVENT, dossier_id)
        if row is None:
            return None
        return {**row, "steps": row["steps"] or []}

    async def update(self, dossier_id: UUID, changes: Mapping[str, Any]) -> None:
        await update_row(self.session, dossiers, {"id": dossier_id}, changes)

    async def add_supplement_request(self, dossier_id: UUID, values: Mapping[str, Any]) -> None:
        await insert_row(self.session, supplement_requests, {"dossier_id": dossier_id, **values})

    async def open_supplement_request(self, dossier_id: UUID) -> dict[str, Any] | None:
        query = (
            select(supplement_requests)
            .where(supplement_requests.c.dossier_id == dossier_id, supplement_requests.c.received_at.is_(None))
            .order_by(supplement_requests.c.id.desc())
            .limit(1)
        )
        row = (await self.session.execute(query)).mappings().first()
        return dict(row) if row else None

    async def supplement_handed_in(self, request_id: int, at: datetime, items: list[str]) -> None:
        await self.session.execute(
            update(supplement_requests).where(supplement_requests.c.id == request_id).values(received_at=at, received_items=items)
        )

    async def set_new_appointment(self, dossier_id: UUID, appointment_at: datetime) -> None:
        """The supplement the citizen brought last gets its new appointment date (NgayHenTraMoi)."""
        latest = (
            select(supplement_requests.c.id)
            .where(
                supplement_requests.c.dossier_id == dossier_id,
                supplement_requests.c.received_at.is_not(None),
                supplement_requests.c.appointment_after.is_(None),
            )
            .order_by(supplement_requests.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        await self.session.execute(
            update(supplement_requests).where(supplement_requests.c.id == latest).values(appointment_after=appointment_at)
        )

    # ------------------------------------------------------------ reading

    async def get(self, dossier_id: UUID, scope: Scope) -> dict[str, Any] | None:
        query = select(dossiers).where(dossiers.c.id == dossier_id, *_in_scope(scope))
        row = (await self.session.execute(query)).mappings().first()
        return dict(row) if row else None

    async def by_code(self, code: str) -> dict[str, Any] | None:
        row = (await self.session.execute(select(dossiers).where(dossiers.c.code == code))).mappings().first()
        return dict(row) if row else None

    async def timeline(self, dossier_id: UUID, *, public_only: bool = False) -> list[dict[str, Any]]:
        query = select(timeline.c.at, timeline.c.kind, timeline.c.label, timeline.c.detail).where(
            timeline.c.dossier_id == dossier_id
        )
        if public_only:
            query = query.where(timeline.c.public.is_(True))
        return [dict(r) for r in (await self.session.execute(query.order_by(timeline.c.at, timeline.c.id))).mappings().all()]

    async def supplements(self, dossier_id: UUID) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(supplement_requests).where(supplement_requests.c.dossier_id == dossier_id).order_by(supplement_requests.c.id)
        )
        return [dict(r) for r in rows.mappings().all()]

    async def search(
        self, filters: SearchFilters, scope: Scope, *, limit: int, cursor: tuple[datetime, UUID] | None, now: datetime
    ) -> SearchResult:
        """A page (newest first, keyset on received_at and id, one row more than `limit` when more
        follow), the count per status and the overdue count, all for the same filters and scope."""
        clauses = _in_scope(scope) + _clauses(filters, now)
        overdue = _overdue(now)
        page_query = select(dossiers, overdue.label("is_overdue")).where(*clauses)
        if cursor is not None:
            page_query = page_query.where(tuple_(dossiers.c.received_at, dossiers.c.id) < tuple_(cursor[0], cursor[1]))
        page_query = page_query.order_by(dossiers.c.received_at.desc(), dossiers.c.id.desc()).limit(limit + 1)
        rows = (await self.session.execute(page_query)).mappings().all()
        by_status = {
            int(s): int(n)
            for s, n in (
                await self.session.execute(select(dossiers.c.status, func.count()).where(*clauses).group_by(dossiers.c.status))
            ).all()
        }
        overdue_count = (
            await self.session.execute(select(func.count()).select_from(dossiers).where(*clauses, overdue))
        ).scalar_one()
        return SearchResult([dict(r) for r in rows], by_status, int(overdue_count))

    # ------------------------------------------------------------ look-up counters and housekeeping

    async def count_lookup(self, client: str, window_start: datetime) -> int:
        """Count one look-up in the client's window (shared by every replica); the count so far.
        The client's first look-up of a window forgets its earlier windows."""
        count = int(await (await driver_connection(self.session)).fetchval(COUNT_LOOKUP, client, window_start))
        if count == 1:
            await self.session.execute(
                delete(lookup_attempts).where(lookup_attempts.c.client == client, lookup_attempts.c.window_start < window_start)
            )
        return count

    async def purge(self, *, lookups_before: datetime, claims_before: datetime) -> tuple[int, int]:
        """Forget look-up windows and claimed keys and nonces past their time; (windows, keys) forgotten."""
        status = await (await driver_connection(self.session)).execute(PURGE_LOOKUPS, lookups_before)
        keys = await CLAIMS["counter"].purge(self.session, claims_before)
        # an LGSP nonce is its delivery's idempotency key: kept as long, not just the freshness window
        await CLAIMS["lgsp"].purge(self.session, claims_before)
        return int(status.split()[-1]), keys


def _in_scope(scope: Scope) -> list[Any]:
    """The dossiers received at the caller's units; every dossier for the province's scope."""
    return [] if scope.everything else [dossiers.c.receiving_unit.in_(scope.units)]


def _overdue(now: datetime) -> Any:
    """Overdue: deadline said so, or the appointment passed while the dossier is neither closed, ready nor paused."""
    not_waiting = [int(s) for s in (*FINAL_STATUSES, *PAUSED_STATUSES, PortalStatus.RESULT_READY)]
    return or_(
        and_(dossiers.c.overdue.is_(True), dossiers.c.status.notin_([int(s) for s in FINAL_STATUSES])),
        and_(dossiers.c.appointment_at < now, dossiers.c.status.notin_(not_waiting)),
    )


def _clauses(f: SearchFilters, now: datetime) -> list[Any]:
    clauses: list[Any] = []
    if f.status:
        clauses.append(dossiers.c.status.in_(f.status))
    if f.procedure_code:
        clauses.append(dossiers.c.procedure_code == f.procedure_code)
    if f.field_code:
        clauses.append(dossiers.c.field_code == f.field_code)
    if f.agency_code:
        clauses.append(or_(dossiers.c.agency_code == f.agency_code, dossiers.c.current_agency_code == f.agency_code))
    if f.channel:
        clauses.append(dossiers.c.channel == f.channel)
    if f.received_from:
        clauses.append(dossiers.c.received_at >= f.received_from)
    if f.received_to:
        clauses.append(dossiers.c.received_at < f.received_to)
    if f.overdue is not None:
        clause = _overdue(now)
        clauses.append(clause if f.overdue else ~clause)
    if f.q:
        pattern = "%" + f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append(or_(dossiers.c.applicant_name.ilike(pattern), dossiers.c.code.ilike(pattern)))
    return clauses
