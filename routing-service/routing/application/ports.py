"""What routing's use cases work with: the repository (over PostgreSQL in
`routing.adapters.repository`, in memory in the tests), the unit of work that binds it to one
transaction with the outbox and the parking of early events, and the clients of the other side of an exchange (an agency's own
system behind the LGSP, the national portal), implemented over HTTP in `routing.adapters.exchange`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol
from uuid import UUID

from routing.domain.agencies import Agencies
from services.audit import AuditTrail
from services.identity import EVERYTHING, Scope
from services.messaging.outbox import EventSink
from services.messaging.parking import EventParking
from services.unit_of_work import UnitOfWork

Queue = Literal["deliveries", "portal_pushes"]  # the two outbound work queues


class ExchangeError(Exception):
    """The other side did not (verifiably) take the message; worth retrying later."""


@dataclass(frozen=True)
class AuditCheck:
    records: int
    intact: bool
    first_broken_id: int | None


class RouteRepository(Protocol):
    # A dossier's route; each runs in the unit's transaction.
    async def add_dossier(self, values: Mapping[str, Any]) -> None: ...
    async def add_steps(self, rows: Sequence[Mapping[str, Any]]) -> None: ...
    async def lock(self, dossier_id: UUID) -> dict[str, Any] | None:
        """The dossier, locked: every change to one dossier's route runs under this row lock, so
        parallel branches finishing together still see each other."""
        ...

    async def steps(self, dossier_id: UUID) -> list[dict[str, Any]]: ...
    async def lock_step(self, dossier_id: UUID, step_id: str, scope: Scope = EVERYTHING) -> dict[str, Any] | None:
        """The step, locked; None when it does not exist or is not at one of the scope's agencies."""
        ...

    async def update_dossier(self, dossier_id: UUID, changes: Mapping[str, Any]) -> None: ...
    async def update_step(self, dossier_id: UUID, step_id: str, changes: Mapping[str, Any]) -> None: ...
    async def cancel_open_steps(self, dossier_id: UUID, at: datetime, *, except_step: str | None = None) -> None: ...
    async def add_handover(self, values: Mapping[str, Any]) -> None: ...
    async def add_delivery(self, values: Mapping[str, Any]) -> None: ...
    async def add_portal_push(self, values: Mapping[str, Any]) -> None: ...
    async def audit(self, kind: str, actor: str, *, dossier_id: Any = None, step_id: str | None = None, **detail: Any) -> None:
        """Append to the hash-chained audit log (nhật ký), in the unit's transaction."""
        ...

    async def claim_nonce(self, client_id: str, nonce: str) -> None:
        """Claim a signed request's nonce in the unit's transaction; `services.idempotency.KeyReused` if already used."""
        ...

    # Reading.
    async def dossier(self, dossier_id: UUID, scope: Scope) -> dict[str, Any] | None:
        """The dossier, if received by one of the scope's units or routed through one of its agencies."""
        ...

    async def handovers(self, dossier_id: UUID) -> list[dict[str, Any]]: ...
    async def agency_steps(
        self,
        scope: Scope,
        states: Sequence[str],
        *,
        agency_code: str | None,
        procedure_code: str | None,
        dossier_code: str | None,
    ) -> list[dict[str, Any]]:
        """The steps of the scope's agencies (of one of them, when named) in these states, each with
        its dossier's code and procedure, oldest assignment first."""
        ...

    async def agency_step(self, dossier_id: UUID, step_id: str, scope: Scope) -> dict[str, Any] | None:
        """One step of the scope's agencies, with its dossier's code and procedure."""
        ...

    async def deliveries(self, *, state: str | None, undelivered: bool, limit: int) -> list[dict[str, Any]]: ...
    async def portal_pushes(self, *, state: str | None, dossier_id: UUID | None, limit: int) -> list[dict[str, Any]]: ...
    async def audit_records(self, *, dossier_id: UUID | None, after_id: int, limit: int) -> list[dict[str, Any]]: ...
    async def verify_audit(self) -> AuditCheck: ...

    # The outbound work queues (LGSP deliveries, national portal pushes) and their upkeep.
    async def claim(self, queue: Queue, limit: int, lease_seconds: float) -> list[dict[str, Any]]:
        """Due rows, leased so that no other round takes them meanwhile (commit before working on them)."""
        ...

    async def delivered(self, delivery_id: int, *, attempts: int, answer: Mapping[str, Any], at: datetime) -> None: ...
    async def pushed(self, push_id: int, *, attempts: int, at: datetime) -> None: ...
    async def attempt_failed(
        self, queue: Queue, row_id: int, *, attempts: int, error: str, gave_up: bool, retry_at: datetime
    ) -> None: ...
    async def postpone(self, queue: Queue, row_id: int, until: datetime) -> None: ...
    async def resend(self, delivery_id: int, at: datetime) -> dict[str, Any] | None:
        """An undelivered delivery made due now with its attempts reset; None if delivered or absent."""
        ...

    async def delivery(self, delivery_id: int) -> dict[str, Any] | None: ...
    async def reconcile_candidates(self, since: datetime) -> list[dict[str, Any]]:
        """Dossiers changed since then with no portal push pending."""
        ...

    async def purge_nonces(self, before: datetime) -> int: ...


@dataclass(frozen=True)
class Partners:
    """Who routing works with beyond its own tables: the agencies (and which of them have their own
    system behind the LGSP, to which their steps are delivered), and whether the national portal is
    kept in step (NATIONAL_PORTAL_URL is set)."""

    agencies: Agencies
    portal: bool


@dataclass(frozen=True)
class RoutingWork:
    """What a use case works with inside one transaction."""

    routes: RouteRepository
    events: EventSink
    partners: Partners
    audit: AuditTrail
    parking: EventParking  # a withdrawal or refusal read before the dossier's route, until the route comes


RoutingUnitOfWork = UnitOfWork[RoutingWork]


class AgencySystems(Protocol):
    """Agencies' own systems, reached through the LGSP."""

    async def deliver(self, endpoint: str, payload: Mapping[str, Any], request_id: str) -> dict[str, Any]:
        """POST a step; the answer, which names our request id, or ExchangeError."""
        ...


class NationalPortal(Protocol):
    """The national portal's sync services (DongBoHoSoMC, TraCuuHoSo)."""

    push_url: str

    async def push(self, key: str, record: Mapping[str, Any]) -> None:
        """Create or update the dossier's record; the key lets the portal drop a repeat. ExchangeError if not taken."""
        ...

    async def status_of(self, dossier_code: str) -> int | None:
        """The status the portal has for the dossier (None: it has no record). ExchangeError if it cannot say."""
        ...
