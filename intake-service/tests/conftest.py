"""An in-memory `DossierRepository`, for unit tests of intake's use cases without a database or Kafka."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple
from uuid import UUID

import pytest

from intake.application.ports import ClaimStore, IntakeWork, SearchFilters, SearchResult
from services.events import Actor, current_actor
from services.events.schemas import SealedContact
from services.idempotency import KeyReused
from services.identity import Scope
from services.testing import FakeUnitOfWork, MemoryAudit, RecordedEvents


class MemoryDossiers:
    def __init__(self) -> None:
        self.rows: dict[UUID, dict[str, Any]] = {}
        self.entries: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.claims: dict[tuple[ClaimStore, tuple[str, ...]], dict[str, Any]] = {}
        self.sequences: dict[tuple[str, date], int] = {}
        self.lookups: dict[tuple[str, datetime], int] = {}

    async def answered(self, store: ClaimStore, key: tuple[str, ...], request_hash: str) -> str | None:
        claim = self.claims.get((store, key))
        if claim is None or claim["response"] is None:
            return None
        if claim["hash"] != request_hash:
            raise KeyReused()
        return claim["response"]

    async def next_sequence(self, unit_code: str, day: date) -> int:
        self.sequences[(unit_code, day)] = self.sequences.get((unit_code, day), 0) + 1
        return self.sequences[(unit_code, day)]

    async def claim(self, store: ClaimStore, key: tuple[str, ...], request_hash: str) -> str | None:
        if (store, key) not in self.claims:
            self.claims[(store, key)] = {"hash": request_hash, "response": None}
            return None
        answer = await self.answered(store, key, request_hash)
        if answer is None:
            raise KeyReused()
        return answer

    async def answer(self, store: ClaimStore, key: tuple[str, ...], response: str, dossier_id: UUID) -> None:
        self.claims[(store, key)]["response"] = response

    async def add_dossier(self, values: Mapping[str, Any]) -> None:
        defaults = {
            "overdue": False,
            "current_agency_code": None,
            "current_agency_name": None,
            "resume_status": None,
            "returned_at": None,
            "return_method": None,
            "rating": None,
            "rating_comment": None,
            "closing_reason": None,
        }
        self.rows[values["id"]] = {**defaults, **values}

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
        self.entries.append(
            {
                "dossier_id": dossier_id,
                "at": at,
                "kind": kind,
                "label": label,
                "detail": dict(detail),
                "event_id": event_id,
                "public": public,
            }
        )

    async def lock(self, dossier_id: UUID, scope: Scope) -> dict[str, Any] | None:
        row = self.rows.get(dossier_id)
        return dict(row) if row and scope.covers_unit(row["receiving_unit"]) else None

    async def lock_by_code(self, code: str) -> dict[str, Any] | None:
        return await self.by_code(code)

    async def lock_for_event(self, dossier_id: UUID) -> dict[str, Any] | None:
        row = self.rows.get(dossier_id)
        return {**row, "steps": row["procedure_snapshot"].get("steps", [])} if row else None

    async def update(self, dossier_id: UUID, changes: Mapping[str, Any]) -> None:
        self.rows[dossier_id].update(changes)

    async def add_supplement_request(self, dossier_id: UUID, values: Mapping[str, Any]) -> None:
        defaults = {"step_id": None, "received_at": None, "received_items": None, "appointment_after": None}
        self.requests.append({**defaults, **values, "id": len(self.requests) + 1, "dossier_id": dossier_id})

    async def open_supplement_request(self, dossier_id: UUID) -> dict[str, Any] | None:
        open_ = [r for r in self.requests if r["dossier_id"] == dossier_id and r["received_at"] is None]
        return open_[-1] if open_ else None

    async def supplement_handed_in(self, request_id: int, at: datetime, items: list[str]) -> None:
        self.requests[request_id - 1].update(received_at=at, received_items=items)

    async def set_new_appointment(self, dossier_id: UUID, appointment_at: datetime) -> None:
        answered = [
            r for r in self.requests if r["dossier_id"] == dossier_id and r["received_at"] and r["appointment_after"] is None
        ]
        if answered:
            answered[-1]["appointment_after"] = appointment_at

    async def get(self, dossier_id: UUID, scope: Scope) -> dict[str, Any] | None:
        return await self.lock(dossier_id, scope)

    async def by_code(self, code: str) -> dict[str, Any] | None:
        return next((dict(r) for r in self.rows.values() if r["code"] == code), None)

    async def timeline(self, dossier_id: UUID, *, public_only: bool = False) -> list[dict[str, Any]]:
        return [
            {k: e[k] for k in ("at", "kind", "label", "detail")}
            for e in self.entries
            if e["dossier_id"] == dossier_id and (e["public"] or not public_only)
        ]

    async def supplements(self, dossier_id: UUID) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["dossier_id"] == dossier_id]

    async def search(
        self, filters: SearchFilters, scope: Scope, *, limit: int, cursor: tuple[datetime, UUID] | None, now: datetime
    ) -> SearchResult:
        rows = [
            {**r, "is_overdue": r["overdue"]}
            for r in self.rows.values()
            if (not filters.status or r["status"] in filters.status) and scope.covers_unit(r["receiving_unit"])
        ]
        rows.sort(key=lambda r: (r["received_at"], r["id"]), reverse=True)
        by_status: dict[int, int] = {}
        for r in rows:
            by_status[r["status"]] = by_status.get(r["status"], 0) + 1
        return SearchResult(rows[: limit + 1], by_status, sum(r["is_overdue"] for r in rows))

    async def count_lookup(self, client: str, window_start: datetime) -> int:
        self.lookups[(client, window_start)] = self.lookups.get((client, window_start), 0) + 1
        return self.lookups[(client, window_start)]

    async def purge(self, *, lookups_before: datetime, claims_before: datetime) -> tuple[int, int]:
        old = [k for k in self.lookups if k[1] < lookups_before]
        for k in old:
            del self.lookups[k]
        return len(old), 0


class ReadersAudit(MemoryAudit):
    """A `MemoryAudit` that also keeps who read (the actor of each read, in order)."""

    def __init__(self) -> None:
        super().__init__()
        self.readers: list[Actor | None] = []

    async def read(self, what: str, dossier_ids: Sequence[str], **detail: object) -> None:
        await super().read(what, dossier_ids, **detail)
        if dossier_ids:
            self.readers.append(current_actor.get())


class RecordedContacts:
    """The contacts given for notify, in order, as (dossier id, contact)."""

    def __init__(self) -> None:
        self.given: list[tuple[str, SealedContact]] = []

    async def give(self, contact: SealedContact, *, dossier_id: str) -> None:
        self.given.append((dossier_id, contact))


class MemoryIntake(NamedTuple):
    uow: FakeUnitOfWork[IntakeWork]
    dossiers: MemoryDossiers
    events: RecordedEvents
    audit: ReadersAudit
    contacts: RecordedContacts


@pytest.fixture
def memory() -> MemoryIntake:
    dossiers, events, audit, contacts = MemoryDossiers(), RecordedEvents(), ReadersAudit(), RecordedContacts()
    return MemoryIntake(FakeUnitOfWork(IntakeWork(dossiers, events, audit, contacts)), dossiers, events, audit, contacts)
