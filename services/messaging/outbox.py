"""Writing events to the outbox, in the caller's transaction (transactional outbox). With tracing
on, each row's headers carry the trace context of the span that created the event, which the relay
sends on as the Kafka message's headers (`services.tracing`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services import tracing
from services.audit import ACTOR_COLUMNS, actor_values
from services.db import driver_connection
from services.events import Actor, Envelope, Event
from services.events.topics import dead_letter_topic, stage_topic
from services.messaging.tables import MessagingTables


class EventSink(Protocol):
    """Where a use case announces what it changed: the outbox, in the use case's own transaction."""

    async def emit(
        self, event: Event, *, dossier_id: str, causation: Envelope | None = None, correlation_id: UUID | None = None
    ) -> Envelope: ...

    async def emit_many(self, events: Sequence[tuple[str, Event]]) -> None: ...


class Outbox:
    """A service's outbox. `emit` adds an event to the session's transaction: it is published
    if, and only if, the state change it announces commits."""

    def __init__(self, tables: MessagingTables, *, service: str, topic_prefix: str) -> None:
        self.tables = tables
        self.service = service
        self.topic = stage_topic(topic_prefix, service)
        self.dead_letter_topic = dead_letter_topic(topic_prefix)
        # The message goes in as JSON text already serialised (pydantic's serialiser, not a dict
        # re-encoded by the driver), on the driver connection: one statement prepared per connection.
        self.insert_row = f"INSERT INTO {tables.schema}.outbox (event_id, topic, key, message, headers) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)"
        # An event and its line in the audit trail (services.audit), in one statement.
        self.insert_event = (
            f"WITH event AS ({self.insert_row}) INSERT INTO {tables.schema}.audit_trail "
            f"({ACTOR_COLUMNS}, action, dossier_id, event_id) VALUES ($6, $7, $8, $9, $10, $3, $1)"
        )

    async def emit(
        self,
        session: AsyncSession,
        event: Event,
        *,
        dossier_id: str,
        causation: Envelope | None = None,
        correlation_id: UUID | None = None,
        topic: str | None = None,
    ) -> Envelope:
        """Write the event (to the stage topic, or to `topic`, a private stream) with its audit line."""
        envelope = event.envelope(
            dossier_id=dossier_id, producer=self.service, causation=causation, correlation_id=correlation_id
        )
        conn = await driver_connection(session)
        topic = topic or self.topic
        if tracing.enabled():
            with tracing.creating(envelope, topic) as headers:
                await conn.execute(self.insert_event, *self._row(envelope, headers, topic))
        else:
            await conn.execute(self.insert_event, *self._row(envelope, topic=topic))
        return envelope

    def _row(self, envelope: Envelope, headers: str = tracing.NO_HEADERS, topic: str | None = None) -> tuple[Any, ...]:
        actor = envelope.actor or Actor.service(self.service)
        return (
            envelope.event_id,
            topic or self.topic,
            envelope.dossier_id,
            envelope.model_dump_json(),
            headers,
            *actor_values(actor),
            envelope.type,
        )

    async def append(
        self,
        session: AsyncSession,
        *,
        topic: str,
        key: str,
        message: dict[str, Any] | str,
        event_id: UUID | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        await (await driver_connection(session)).execute(
            self.insert_row,
            event_id or uuid4(),
            topic,
            key,
            message if isinstance(message, str) else json.dumps(message, ensure_ascii=False),
            json.dumps(headers or {}, ensure_ascii=False),
        )

    async def emit_many(self, session: AsyncSession, events: Sequence[tuple[str, Event]]) -> None:
        """Several events (dossier id, event), each starting its own flow, as one batch of the driver's executemany."""
        envelopes = [event.envelope(dossier_id=dossier_id, producer=self.service) for dossier_id, event in events]
        if tracing.enabled():
            rows = [self._row(envelope, tracing.created(envelope, self.topic)) for envelope in envelopes]
        else:
            rows = [self._row(envelope) for envelope in envelopes]
        if rows:
            await (await driver_connection(session)).executemany(self.insert_event, rows)

    def bind(self, session: AsyncSession) -> SessionOutbox:
        return SessionOutbox(self, session)


class SessionOutbox:
    """The outbox bound to one session: the `EventSink` a use case is given."""

    __slots__ = ("outbox", "session")

    def __init__(self, outbox: Outbox, session: AsyncSession) -> None:
        self.outbox = outbox
        self.session = session

    async def emit(
        self, event: Event, *, dossier_id: str, causation: Envelope | None = None, correlation_id: UUID | None = None
    ) -> Envelope:
        return await self.outbox.emit(
            self.session, event, dossier_id=dossier_id, causation=causation, correlation_id=correlation_id
        )

    async def emit_many(self, events: Sequence[tuple[str, Event]]) -> None:
        await self.outbox.emit_many(self.session, events)
