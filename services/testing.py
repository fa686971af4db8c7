"""In-memory stand-ins for the kernel's ports, for unit tests of a service's application layer:
no database, no Kafka. A service's own tests add a fake of its repository."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Generic, TypeVar
from uuid import UUID

from services.events import Envelope, Event

U = TypeVar("U")
E = TypeVar("E", bound=Event)


class RecordedEvents:
    """An `EventSink` that keeps what was emitted, in order."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.events: list[Event] = []

    async def emit(
        self, event: Event, *, dossier_id: str, causation: Envelope | None = None, correlation_id: UUID | None = None
    ) -> Envelope:
        envelope = event.envelope(dossier_id=dossier_id, producer="test", causation=causation, correlation_id=correlation_id)
        self.envelopes.append(envelope)
        self.events.append(event)
        return envelope

    async def emit_many(self, events: Sequence[tuple[str, Event]]) -> None:
        for dossier_id, event in events:
            await self.emit(event, dossier_id=dossier_id)

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def types(self) -> list[str]:
        return [e.event_type for e in self.events]


class MemoryParking:
    """An `EventParking` in a dict; `held` lists every dossier whose lock was taken."""

    def __init__(self) -> None:
        self.parked: dict[str, list[Envelope]] = {}
        self.held: list[str] = []

    async def hold(self, dossier_id: str) -> None:
        self.held.append(dossier_id)

    async def park(self, envelope: Envelope) -> None:
        await self.hold(envelope.dossier_id)
        self.parked.setdefault(envelope.dossier_id, []).append(envelope)

    async def release(self, dossier_id: str) -> list[Envelope]:
        await self.hold(dossier_id)
        return self.parked.pop(dossier_id, [])


class FakeUnitOfWork(Generic[U]):
    """A `UnitOfWork` that hands out the same unit every time and counts commits and rollbacks
    (a fake repository keeps what a rolled-back block wrote: tests check the count instead)."""

    def __init__(self, unit: U) -> None:
        self.unit = unit
        self.commits = 0
        self.rollbacks = 0

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[U]:
        try:
            yield self.unit
        except BaseException:
            self.rollbacks += 1
            raise
        self.commits += 1

    @asynccontextmanager
    async def read(self) -> AsyncIterator[U]:
        yield self.unit


class MemoryAudit:
    """An `AuditTrail` in a list: (what, dossier ids, detail) per read recorded."""

    def __init__(self) -> None:
        self.reads: list[tuple[str, list[str], dict[str, object]]] = []

    async def read(self, what: str, dossier_ids: Sequence[str], **detail: object) -> None:
        if dossier_ids:
            self.reads.append((what, [str(d) for d in dossier_ids], detail))
