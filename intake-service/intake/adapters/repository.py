"""All of intake's SQL: dossiers and their codes, the timeline, supplement requests, claimed
Idempotency-Keys and LGSP nonces, look-up counters, staff search, the citizen's personal-data
requests and the retention rules. One repository per session; the statements run for every
receipt or event go to the driver directly (`services.db`).

Personal data is sealed here and nowhere else (Decree 13/2023): the applicant (JSON) and its name
are written sealed under intake's key ring with blind indexes of the citizen id, phone and full
name, and every row read is handed to the use cases opened, as `applicant` (dict) and
`applicant_name`, so they never see a sealed value. The first answers kept for an Idempotency-Key
or an LGSP nonce are sealed too.

What staff read or change is filtered by the caller's `Scope` in the statement itself: a dossier
received at a unit the caller does not serve is not found, exactly like one that does not exist."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters.tables import (
    APPLICANT_PURPOSE,
    NAME_PURPOSE,
    NONCE_RESPONSE_PURPOSE,
    RESPONSE_PURPOSE,
    dossiers,
    idempotency_keys,
    inbound_nonces,
    lookup_attempts,
    supplement_requests,
    timeline,
)
from intake.application.ports import ClaimStore, SearchFilters, SearchResult
from intake.domain.personal_data import ENDED_STATUSES, ERASED_APPLICANT, ERASED_NAME, search_kind
from services.db import autocommit_connection, driver_connection, insert_row, update_row
from services.events import Actor
from services.idempotency import Claims
from services.identity import Scope
from services.personal_data.keys import KeyRing
from services.personal_data.requests import Held, HeldPart, read_parts, record_part
from services.vocabulary import FINAL_STATUSES, PAUSED_STATUSES, PortalStatus

CLAIMS: dict[ClaimStore, Claims] = {
    "counter": Claims(idempotency_keys, ["key"], answer_columns=["dossier_id"], text_response=True),
    "lgsp": Claims(inbound_nonces, ["client_id", "nonce"], answer_columns=["dossier_id"], text_response=True),
}
CLAIM_PURPOSES: dict[ClaimStore, str] = {"counter": RESPONSE_PURPOSE, "lgsp": NONCE_RESPONSE_PURPOSE}

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

_ENDED = ", ".join(str(int(s)) for s in sorted(ENDED_STATUSES))
# What erasing a dossier's applicant leaves: a marker for the name, no sealed value, no index.
_ERASE_SET = (
    "applicant_sealed = NULL, applicant_name = '" + ERASED_NAME + "', citizen_id_index = NULL, phone_index = NULL, "
    "name_index = NULL, applicant_erased_at = now()"
)
# Retention (`services.personal_data.retention`): $1 the cut-off, $2 the batch.
RETAIN_APPLICANTS = (
    f"UPDATE intake.dossiers SET {_ERASE_SET} WHERE id IN (SELECT id FROM intake.dossiers "
    f"WHERE applicant_erased_at IS NULL AND status IN ({_ENDED}) AND coalesce(returned_at, updated_at) < $1 "
    "ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id::text AS dossier_id"
)
RETAIN_IDEMPOTENCY_RESPONSES = (
    "UPDATE intake.idempotency_keys SET response = NULL WHERE key IN (SELECT key FROM intake.idempotency_keys "
    "WHERE response IS NOT NULL AND created_at < $1 ORDER BY key LIMIT $2 FOR UPDATE SKIP LOCKED) "
    "RETURNING dossier_id::text AS dossier_id"
)
RETAIN_NONCE_RESPONSES = (
    "UPDATE intake.inbound_nonces SET response = NULL WHERE (client_id, nonce) IN (SELECT client_id, nonce "
    "FROM intake.inbound_nonces WHERE response IS NOT NULL AND created_at < $1 ORDER BY client_id, nonce "
    "LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING dossier_id::text AS dossier_id"
)
ERASE_APPLICANT = f"UPDATE intake.dossiers SET {_ERASE_SET} WHERE id = $1 AND applicant_erased_at IS NULL RETURNING 1"
ERASE_RESPONSES = (
    "WITH k AS (UPDATE intake.idempotency_keys SET response = NULL WHERE dossier_id = $1 AND response IS NOT NULL RETURNING 1), "
    "n AS (UPDATE intake.inbound_nonces SET response = NULL WHERE dossier_id = $1 AND response IS NOT NULL RETURNING 1) "
    "SELECT (SELECT count(*) FROM k) + (SELECT count(*) FROM n)"
)
HELD_RESPONSES = (
    "SELECT 'counter' AS store, response FROM intake.idempotency_keys WHERE dossier_id = $1 AND response IS NOT NULL "
    "UNION ALL SELECT 'lgsp', response FROM intake.inbound_nonces WHERE dossier_id = $1 AND response IS NOT NULL"
)
ADD_REQUEST = (
    "INSERT INTO intake.personal_data_requests (id, kind, citizen_id_index, requested_at, requester, dossier_ids, kept, answers) "
    "VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb)"
)
RECORD_ANSWER = (
    "UPDATE intake.personal_data_requests SET answers = jsonb_set(answers, ARRAY[$2::text, $3::text], to_jsonb($4::int), true) "
    "WHERE id = $1 AND answers ? $2 RETURNING 1"
)
SEARCH_INDEXES = {"citizen_id": dossiers.c.citizen_id_index, "phone": dossiers.c.phone_index, "name": dossiers.c.name_index}


class IntakeRepository:
    def __init__(self, session: AsyncSession, keys: KeyRing) -> None:
        self.session = session
        self.keys = keys

    # ------------------------------------------------------------ sealing

    def _sealed(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A dossier's columns as stored: the applicant sealed, its indexes computed."""
        stored = dict(values)
        if "applicant" in stored:
            applicant = stored.pop("applicant")
            stored["applicant_sealed"] = self.keys.seal_json(applicant, purpose=APPLICANT_PURPOSE)
            stored["citizen_id_index"] = self.keys.index(applicant.get("citizen_id"), kind="citizen_id")
            stored["phone_index"] = self.keys.index(applicant.get("phone"), kind="phone")
            stored["name_index"] = self.keys.index(applicant.get("name"), kind="name")
        if "applicant_name" in stored:
            stored["applicant_name"] = self.keys.seal(stored["applicant_name"], purpose=NAME_PURPOSE)
        return stored

    def _name(self, stored: str) -> str:
        return (self.keys.open(stored, purpose=NAME_PURPOSE) or "") if KeyRing.is_sealed(stored) else stored

    def opened(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A dossier row as the use cases read it: `applicant` (dict) and `applicant_name` in clear,
        an erased applicant as `{"erased": true, "name": "[đã xoá]"}`; no sealed value, no index."""
        found = {k: v for k, v in row.items() if not k.endswith("_index")}
        if "applicant_sealed" in found:
            sealed = found.pop("applicant_sealed")
            found["applicant"] = self.keys.open_json(sealed, purpose=APPLICANT_PURPOSE) if sealed else dict(ERASED_APPLICANT)
        if "applicant_name" in found:
            found["applicant_name"] = self._name(found["applicant_name"])
        return found

    def _answer(self, store: ClaimStore, answer: str | None) -> str | None:
        return self.keys.open(answer, purpose=CLAIM_PURPOSES[store]) if answer is not None else None

    # ------------------------------------------------------------ receiving

    async def answered(self, store: ClaimStore, key: tuple[str, ...], request_hash: str) -> str | None:
        """Before the transaction: the first answer of a request already carried out under this key."""
        return self._answer(store, await CLAIMS[store].answered(await autocommit_connection(self.session), key, request_hash))

    async def next_sequence(self, unit_code: str, day: date) -> int:
        """The next dossier-code sequence of a unit for a Vietnam day, unique across replicas.

        Taken before the transaction, committed at once on the same connection: concurrent
        receipts queue on the counter's row lock for one statement, not for each other's whole
        receipt, and a receipt still takes one connection from the pool. A receipt that fails
        after this leaves its number unused; none repeats."""
        return int(await (await autocommit_connection(self.session)).fetchval(NEXT_SEQUENCE, unit_code, day))

    async def claim(self, store: ClaimStore, key: tuple[str, ...], request_hash: str) -> str | None:
        return self._answer(store, await CLAIMS[store].claim(self.session, key, request_hash))

    async def answer(self, store: ClaimStore, key: tuple[str, ...], response: str, dossier_id: UUID) -> None:
        sealed = self.keys.seal(response, purpose=CLAIM_PURPOSES[store])
        await CLAIMS[store].answer(self.session, key, sealed, dossier_id)

    async def add_dossier(self, values: Mapping[str, Any]) -> None:
        """`values` with `applicant` (dict) and `applicant_name` in clear: stored sealed."""
        await insert_row(self.session, dossiers, self._sealed(values))

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
        return self.opened(row) if row else None

    async def lock_by_code(self, code: str) -> dict[str, Any] | None:
        """For the citizen, who knows the code (and proves it with the secret): no unit to scope by."""
        row = (await self.session.execute(select(dossiers).where(dossiers.c.code == code).with_for_update())).mappings().first()
        return self.opened(row) if row else None

    async def lock_for_event(self, dossier_id: UUID) -> dict[str, Any] | None:
        """The columns another service's event can change or needs, locked; not the whole row (its
        procedure snapshot, applicant and documents are JSON a timeline entry never reads)."""
        row = await (await driver_connection(self.session)).fetchrow(LOCK_FOR_EVENT, dossier_id)
        if row is None:
            return None
        return {**row, "steps": row["steps"] or []}

    async def update(self, dossier_id: UUID, changes: Mapping[str, Any]) -> None:
        await update_row(self.session, dossiers, {"id": dossier_id}, self._sealed(changes))

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
        return self.opened(row) if row else None

    async def by_code(self, code: str) -> dict[str, Any] | None:
        row = (await self.session.execute(select(dossiers).where(dossiers.c.code == code))).mappings().first()
        return self.opened(row) if row else None

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
        follow), the count per status and the overdue count, all for the same filters and scope.

        `q` finds a dossier code containing it, or the applicant by exact citizen id, phone or full
        name through the blind indexes (a part of a name finds nothing: names are sealed)."""
        index = None
        if filters.q and filters.q.strip():
            kind = search_kind(filters.q)
            index = (SEARCH_INDEXES[kind], self.keys.index(filters.q, kind=kind))
        clauses = _in_scope(scope) + _clauses(filters, now, index)
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
        return SearchResult([self.opened(r) for r in rows], by_status, int(overdue_count))

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

    # ------------------------------------------------------------ personal data (Decree 13/2023)

    def citizen_index(self, citizen_id: str) -> str:
        index = self.keys.index(citizen_id, kind="citizen_id")
        assert index is not None
        return index

    async def of_citizen(self, citizen_index: str) -> list[dict[str, Any]]:
        """The dossiers of a citizen (id, code, status), oldest first, found by the blind index."""
        rows = await (await driver_connection(self.session)).fetch(
            "SELECT id, code, status FROM intake.dossiers WHERE citizen_id_index = $1 ORDER BY received_at, id", citizen_index
        )
        return [dict(r) for r in rows]

    async def held(self, dossier_id: UUID) -> Held:
        """Everything intake holds about a dossier's applicant, opened, by data class."""
        row = (await self.session.execute(select(dossiers).where(dossiers.c.id == dossier_id))).mappings().first()
        if row is None:
            return {}
        dossier = self.opened(row)
        held: dict[str, list[dict[str, Any]]] = {}
        if dossier["applicant_erased_at"] is None:
            held["applicant"] = [
                {
                    "dossier_code": dossier["code"],
                    "procedure_code": dossier["procedure_code"],
                    "received_at": dossier["received_at"].isoformat(),
                    **dossier["applicant"],
                }
            ]
        answers = await (await driver_connection(self.session)).fetch(HELD_RESPONSES, dossier_id)
        if answers:
            held["receipt_answers"] = [json.loads(self._answer(r["store"], r["response"]) or "null") for r in answers]
        return held

    async def erase_applicant(self, dossier_id: UUID) -> int:
        """Erase what intake holds of a dossier's applicant (as the retention rule does, and the
        kept answers of its Idempotency-Key or LGSP nonce); how many records."""
        conn = await driver_connection(self.session)
        erased = 1 if await conn.fetchval(ERASE_APPLICANT, dossier_id) else 0
        return erased + int(await conn.fetchval(ERASE_RESPONSES, dossier_id))

    async def add_personal_data_request(
        self,
        request_id: str,
        *,
        kind: str,
        citizen_index: str,
        requested_at: datetime,
        requester: Actor,
        dossier_ids: list[str],
        kept: list[dict[str, Any]],
        answers: dict[str, dict[str, int]],
    ) -> None:
        await (await driver_connection(self.session)).execute(
            ADD_REQUEST,
            request_id,
            kind,
            citizen_index,
            requested_at,
            requester.model_dump_json(),
            json.dumps(dossier_ids),
            json.dumps(kept, ensure_ascii=False),
            json.dumps(answers),
        )

    async def personal_data_request(self, request_id: str) -> dict[str, Any] | None:
        row = await (await driver_connection(self.session)).fetchrow(
            "SELECT id, kind, requested_at, requester, dossier_ids, kept, answers FROM intake.personal_data_requests WHERE id = $1",
            request_id,
        )
        return dict(row) if row else None

    async def recent_personal_data_requests(self, limit: int) -> list[dict[str, Any]]:
        """The newest requests first; what was asked and by whom, never about whom."""
        rows = await (await driver_connection(self.session)).fetch(
            "SELECT id, kind, requested_at, requester, dossier_ids, kept, answers FROM intake.personal_data_requests "
            "ORDER BY requested_at DESC, id LIMIT $1",
            limit,
        )
        return [dict(row) for row in rows]

    async def codes_of(self, dossier_ids: list[str]) -> dict[str, str]:
        """Each dossier's code (mã hồ sơ), by id."""
        if not dossier_ids:
            return {}
        ids = [UUID(d) for d in dossier_ids]
        rows = await self.session.execute(select(dossiers.c.id, dossiers.c.code).where(dossiers.c.id.in_(ids)))
        return {str(row.id): row.code for row in rows}

    async def record_answer(self, request_id: str, dossier_id: str, service: str, records: int) -> bool:
        """A service's answer for one dossier of a request; False when the request does not ask it."""
        return (
            await (await driver_connection(self.session)).fetchval(RECORD_ANSWER, request_id, dossier_id, service, records)
            is not None
        )

    async def parts(self, request_id: str) -> list[HeldPart]:
        """Intake's own parts of a request, opened."""
        return await read_parts(self.session, schema="intake", keys=self.keys, request_id=request_id)

    async def record_part(self, request_id: str, kind: str, dossier_id: str, held: Held | None, records: int) -> bool:
        """Intake's own part of a request for one dossier, sealed, with its audit line (the kernel's table)."""
        return await record_part(
            self.session,
            schema="intake",
            service="intake",
            keys=self.keys,
            request_id=request_id,
            kind=kind,
            dossier_id=dossier_id,
            held=held,
            records=records,
        )


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


def _clauses(f: SearchFilters, now: datetime, index: tuple[Any, str | None] | None = None) -> list[Any]:
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
        by_code = dossiers.c.code.ilike(pattern)
        clauses.append(or_(by_code, index[0] == index[1]) if index is not None and index[1] else by_code)
    return clauses
