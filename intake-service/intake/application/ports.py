"""What intake's use cases work with: the repository they need (implemented over PostgreSQL in
`intake.adapters.repository`, in memory in the tests) and the unit of work that binds it to one
transaction together with the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Protocol
from uuid import UUID

from services.audit import AuditTrail
from services.events import Actor
from services.events.schemas import SealedContact
from services.identity import Scope
from services.messaging.outbox import EventSink
from services.unit_of_work import UnitOfWork

ClaimStore = Literal["counter", "lgsp"]  # Idempotency-Keys of the counter and portals; nonces of LGSP deliveries


@dataclass(frozen=True)
class SearchFilters:
    status: list[int] | None = None
    procedure_code: str | None = None
    field_code: str | None = None
    agency_code: str | None = None
    channel: int | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    overdue: bool | None = None
    q: str | None = None  # part of a dossier code, or the exact citizen id, phone or full name (blind index)


@dataclass(frozen=True)
class SearchResult:
    rows: list[dict[str, Any]]  # each with `is_overdue`
    by_status: dict[int, int]
    overdue: int


class DossierRepository(Protocol):
    # Before the unit's transaction begins (each commits at once, on the unit's connection).
    async def answered(self, store: ClaimStore, key: tuple[str, ...], request_hash: str) -> str | None: ...
    async def next_sequence(self, unit_code: str, day: date) -> int: ...

    # Receiving.
    async def claim(self, store: ClaimStore, key: tuple[str, ...], request_hash: str) -> str | None: ...
    async def answer(self, store: ClaimStore, key: tuple[str, ...], response: str, dossier_id: UUID) -> None: ...
    async def add_dossier(self, values: Mapping[str, Any]) -> None: ...
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
    ) -> None: ...

    # Changing a dossier. `scope` keeps out the dossiers of units the caller does not serve: not found.
    async def lock(self, dossier_id: UUID, scope: Scope) -> dict[str, Any] | None: ...
    async def lock_by_code(self, code: str) -> dict[str, Any] | None: ...
    async def lock_for_event(self, dossier_id: UUID) -> dict[str, Any] | None: ...
    async def update(self, dossier_id: UUID, changes: Mapping[str, Any]) -> None: ...
    async def add_supplement_request(self, dossier_id: UUID, values: Mapping[str, Any]) -> None: ...
    async def open_supplement_request(self, dossier_id: UUID) -> dict[str, Any] | None: ...
    async def supplement_handed_in(self, request_id: int, at: datetime, items: list[str]) -> None: ...
    async def set_new_appointment(self, dossier_id: UUID, appointment_at: datetime) -> None: ...

    # Reading.
    async def get(self, dossier_id: UUID, scope: Scope) -> dict[str, Any] | None: ...
    async def by_code(self, code: str) -> dict[str, Any] | None: ...
    async def timeline(self, dossier_id: UUID, *, public_only: bool = False) -> list[dict[str, Any]]: ...
    async def supplements(self, dossier_id: UUID) -> list[dict[str, Any]]: ...
    async def search(
        self, filters: SearchFilters, scope: Scope, *, limit: int, cursor: tuple[datetime, UUID] | None, now: datetime
    ) -> SearchResult: ...

    # Look-up counters and housekeeping.
    async def count_lookup(self, client: str, window_start: datetime) -> int: ...
    async def purge(self, *, lookups_before: datetime, claims_before: datetime) -> tuple[int, int]: ...

    # A citizen's personal-data requests (Decree 13/2023).
    def citizen_index(self, citizen_id: str) -> str: ...
    async def of_citizen(self, citizen_index: str) -> list[dict[str, Any]]: ...
    async def held(self, dossier_id: UUID) -> Mapping[str, Any]: ...
    async def erase_applicant(self, dossier_id: UUID) -> int: ...
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
    ) -> None: ...
    async def personal_data_request(self, request_id: str) -> dict[str, Any] | None: ...
    async def recent_personal_data_requests(self, limit: int) -> list[dict[str, Any]]: ...
    async def codes_of(self, dossier_ids: list[str]) -> dict[str, str]: ...
    async def record_answer(self, request_id: str, dossier_id: str, service: str, records: int) -> bool: ...
    async def record_part(self, request_id: str, kind: str, dossier_id: str, held: Any, records: int) -> bool: ...
    async def parts(self, request_id: str) -> list[Any]: ...


class ContactStream(Protocol):
    """Where the applicant's contact goes, sealed, for notify alone (`dossier.contact_given`)."""

    async def give(self, contact: SealedContact, *, dossier_id: str) -> None: ...


@dataclass(frozen=True)
class IntakeWork:
    """What a use case works with inside one transaction."""

    dossiers: DossierRepository
    events: EventSink
    audit: AuditTrail
    contacts: ContactStream


IntakeUnitOfWork = UnitOfWork[IntakeWork]
