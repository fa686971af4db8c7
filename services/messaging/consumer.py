"""The idempotent consumer: applies each event at most once, however often Kafka delivers it.

For each batch polled, a single database transaction records every event id in the
inbox together with the handler's effects (and any events the handler emits to the outbox);
the Kafka offsets are committed only after that transaction commits. A redelivered event finds
its id in the inbox and is skipped. A handler that keeps failing is retried with backoff, then
the message goes to the dead-letter topic with its error and the partition moves on.

Each handler runs with the event's correlation id in every log line and, with tracing on, in a
`process <type>` span under the span that created the event (`services.tracing`)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import CommitFailedError, IllegalStateError
from aiokafka.structs import ConsumerRecord, TopicPartition
from pydantic import ValidationError
from sqlalchemy import insert, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services import tracing
from services.db import driver_connection, is_lock_conflict
from services.events import Envelope
from services.events.topics import stage_topic
from services.kafka import create_consumer
from services.logging import correlation_id_var, fields
from services.messaging.lag import LagGauge
from services.messaging.outbox import Outbox
from services.metrics import DEAD_LETTERS, EVENTS_CONSUMED
from services.personal_data.keys import KeyRing
from services.personal_data.redaction import describe, redact_raw
from services.settings import ServiceSettings
from services.work_queue import backoff_seconds, wait_for

log = logging.getLogger(__name__)

W = TypeVar("W")
# A handler takes what its subscription binds to the consumer's transaction (the service's unit of
# work: repository, outbox, parking) and the event.
Handler = Callable[[W, Envelope], Awaitable[None]]


class PendingOffsets:
    """Offsets of applied batches, committed to Kafka at most once per interval, and as soon as
    the consumer is idle. The inbox already makes a redelivered event harmless, so a crash between
    two commits costs a re-read, never a second effect; committing after every poll cost a broker
    round trip per batch."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self.offsets: dict[TopicPartition, int] = {}
        self.last_commit = time.monotonic()

    def advance(self, offsets: dict[TopicPartition, int]) -> None:
        self.offsets.update(offsets)

    def due(self, *, idle: bool) -> bool:
        return bool(self.offsets) and (idle or time.monotonic() - self.last_commit >= self.interval_s)

    def take(self) -> dict[TopicPartition, int]:
        offsets, self.offsets = self.offsets, {}
        self.last_commit = time.monotonic()
        return offsets


class _HandlerFailed(Exception):
    """A handler failed in a batch applied without savepoints: redo the batch one event at a time."""


class _LockConflict(Exception):
    """Another transaction (a replica, an API call) held a lock the batch needed: apply it again."""


# A batch that keeps meeting lock conflicts is given up after this many tries (the consumer then
# restarts from its committed offsets); conflicts never count towards dead-lettering a message.
LOCK_CONFLICT_TRIES = 8
# What a dead letter's sealed message is bound to (`services.personal_data.keys`).
DEAD_LETTER_PURPOSE = "dead_letters.raw"


def _session(session: AsyncSession) -> Any:
    return session


@dataclass(frozen=True)
class Subscription(Generic[W]):
    """What one consumer of a service listens to: the producing services, a handler per event
    type, and `bind`, which makes what the handlers work with from the consumer's session."""

    name: str
    sources: tuple[str, ...]
    handlers: Mapping[str, Handler[W]]
    bind: Callable[[AsyncSession], W] = field(default=_session)

    async def handle(self, session: AsyncSession, envelope: Envelope) -> bool:
        """Apply the event within the session's transaction; False when no handler takes its type."""
        handler = self.handlers.get(envelope.type)
        if handler is None:
            return False
        await handler(self.bind(session), envelope)
        return True


def is_infrastructure_failure(exc: BaseException) -> bool:
    """A lost database is not the message's fault: stop and retry the batch instead of dead-lettering."""
    if isinstance(exc, (OperationalError, InterfaceError, ConnectionError, OSError)):
        return True
    # The same from statements run on the driver connection, which asyncpg raises unwrapped.
    if isinstance(exc, (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.exceptions.OperatorInterventionError)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class IdempotentConsumer:
    def __init__(
        self,
        settings: ServiceSettings,
        sessionmaker: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        subscription: Subscription[Any],
        keys: KeyRing | None = None,
    ) -> None:
        self.settings = settings
        # Seals a dead letter's message at rest (kept for replay); without keys it is not kept.
        self.keys = keys
        self.sessionmaker = sessionmaker
        self.outbox = outbox
        self.subscription = subscription
        self.name = subscription.name
        self.group_id = f"{settings.topic_prefix}.{settings.service_name}.{subscription.name}"
        self.topics = [stage_topic(settings.topic_prefix, s) for s in subscription.sources]
        self.inbox = outbox.tables.inbox
        # One statement for any batch size, prepared once per connection.
        self.record_in_inbox = (
            f"INSERT INTO {outbox.tables.schema}.inbox (consumer, event_id) SELECT $1, unnest($2::uuid[]) "
            "ON CONFLICT DO NOTHING RETURNING event_id"
        )
        self.assigned = asyncio.Event()
        self.lag = LagGauge(self.group_id)
        DEAD_LETTERS.labels(self.name)  # shown at 0 from the start, so an increase over it is defined

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            consumer = create_consumer(self.settings, self.group_id, self.topics)
            offsets = PendingOffsets(self.settings.consumer_commit_interval_ms / 1000)
            try:
                await consumer.start()
                while not stop.is_set():
                    batches = await consumer.getmany(timeout_ms=500, max_records=self.settings.consumer_max_batch)
                    if consumer.assignment():
                        self.assigned.set()
                    if batches:
                        # One transaction for the whole poll: each partition's records keep their order.
                        await self.apply([record for records in batches.values() for record in records])
                        offsets.advance({tp: records[-1].offset + 1 for tp, records in batches.items()})
                    if offsets.due(idle=not batches):
                        await self._commit(consumer, offsets.take())
                    await self.lag.refresh(consumer)
                    failures = 0
                await self._commit(consumer, offsets.take())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                delay = backoff_seconds(failures, 0.5, 10.0)
                log.warning("consumer %s interrupted (%s); restarting in %.1fs", self.group_id, exc, delay)
                await wait_for(stop, delay)
            finally:
                self.lag.clear()
                try:
                    await consumer.stop()
                except Exception:  # pragma: no cover - best effort on a broken client
                    log.debug("consumer stop failed", exc_info=True)

    @staticmethod
    async def _commit(consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # Rebalanced away: the new owner re-reads from the last commit, and the inbox drops repeats.
            log.info("offset commit skipped after rebalance: %s", exc)

    async def apply(self, records: list[ConsumerRecord]) -> None:
        """Apply one poll's records in one transaction. The fast path records the whole batch's
        event ids in the inbox with one statement and runs the handlers without savepoints; if a
        handler fails, the batch is rolled back and applied again event by event, each in a
        savepoint, so a poison message can be retried and dead-lettered without undoing its
        neighbours.

        Handlers lock per dossier, and a service reads several topics whose partitions replicas
        share, so two replicas can hold events of the same dossiers. The batch is taken in dossier
        order (a stable sort: each dossier's events keep theirs), so replicas take those locks in
        the same order; a lock conflict that still happens (with an API call, say) rolls the batch
        back and applies it again, and never counts against a message."""
        records = sorted(records, key=lambda record: record.key or b"")
        for attempt in range(1, LOCK_CONFLICT_TRIES + 1):
            try:
                await self._apply(records)
                return
            except _LockConflict as conflict:
                if attempt == LOCK_CONFLICT_TRIES:
                    raise conflict.__cause__ or conflict from None
                delay = backoff_seconds(attempt, 0.05, 2.0)
                log.info(
                    "consumer %s met a lock conflict (%s); applying the batch again in %.2fs",
                    self.name,
                    conflict.__cause__,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _apply(self, records: list[ConsumerRecord]) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                await self._apply_batch(session, records)
            return
        except _HandlerFailed:
            pass
        async with self.sessionmaker() as session, session.begin():
            for record in records:
                await self._apply_one(session, record)

    async def _apply_batch(self, session: AsyncSession, records: list[ConsumerRecord]) -> None:
        envelopes: list[tuple[ConsumerRecord, Envelope]] = []
        for record in records:
            try:
                envelope = Envelope.from_bytes(record.value)
            except (ValidationError, ValueError) as exc:
                raise _HandlerFailed from exc
            if envelope.type in self.subscription.handlers:
                envelopes.append((record, envelope))
            else:
                EVENTS_CONSUMED.labels(self.name, envelope.type, "ignored").inc()
        if not envelopes:
            return
        ids = list(dict.fromkeys(e.event_id for _, e in envelopes))
        fresh = await self.first_seen(session, ids)
        for record, envelope in envelopes:
            if envelope.event_id not in fresh:
                EVENTS_CONSUMED.labels(self.name, envelope.type, "duplicate").inc()
                continue
            fresh.discard(envelope.event_id)  # the same event twice in one batch: once
            try:
                await self._handle(session, record, envelope)
            except Exception as exc:
                if is_infrastructure_failure(exc):
                    raise
                if is_lock_conflict(exc):
                    raise _LockConflict from exc
                raise _HandlerFailed from exc
            EVENTS_CONSUMED.labels(self.name, envelope.type, "applied").inc()

    async def _handle(self, session: AsyncSession, record: ConsumerRecord, envelope: Envelope) -> None:
        """Run the event's handler with its correlation id in every log line and, with tracing on,
        in a `process` span under the span that created the event (from the message's headers)."""
        token = correlation_id_var.set(str(envelope.correlation_id))
        try:
            if not tracing.enabled():
                await self.subscription.handle(session, envelope)
                return
            with tracing.processing(
                record.headers,
                envelope,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                consumer_group=self.group_id,
            ):
                await self.subscription.handle(session, envelope)
        finally:
            correlation_id_var.reset(token)

    async def first_seen(self, session: AsyncSession, event_ids: list[UUID]) -> set[UUID]:
        """Record the events in the inbox; the ids recorded now (not by an earlier delivery)."""
        rows = await (await driver_connection(session)).fetch(self.record_in_inbox, self.name, event_ids)
        return {row[0] for row in rows}

    async def _apply_one(self, session: AsyncSession, record: ConsumerRecord) -> None:
        try:
            envelope = Envelope.from_bytes(record.value)
        except (ValidationError, ValueError) as exc:
            await self._dead_letter(session, record, None, f"unreadable envelope: {describe(exc)}", attempts=1)
            return
        if envelope.type not in self.subscription.handlers:
            EVENTS_CONSUMED.labels(self.name, envelope.type, "ignored").inc()
            return
        if not await self.first_seen(session, [envelope.event_id]):
            EVENTS_CONSUMED.labels(self.name, envelope.type, "duplicate").inc()
            return
        attempt = 0
        while True:
            attempt += 1
            try:
                async with session.begin_nested():
                    await self._handle(session, record, envelope)
                EVENTS_CONSUMED.labels(self.name, envelope.type, "applied").inc()
                return
            except Exception as exc:
                if is_infrastructure_failure(exc):
                    raise
                if is_lock_conflict(exc):
                    raise _LockConflict from exc
                if attempt >= self.settings.consumer_max_attempts:
                    await self._dead_letter(session, record, envelope, describe(exc), attempt)
                    return
                delay = backoff_seconds(attempt, self.settings.consumer_retry_backoff_ms / 1000, 60.0)
                log.warning(
                    "handler failed, retrying",
                    extra=fields(
                        consumer=self.name,
                        event_id=str(envelope.event_id),
                        type=envelope.type,
                        attempt=attempt,
                        error=describe(exc),
                    ),
                )
                await asyncio.sleep(delay)

    async def _dead_letter(
        self, session: AsyncSession, record: ConsumerRecord, envelope: Envelope | None, error: str, attempts: int
    ) -> None:
        """Set the message aside: its row keeps it sealed (for a replay), while the dead-letter topic,
        its headers and the log say where it failed and why with every personal value blanked."""
        tables = self.outbox.tables
        raw = record.value.decode("utf-8", errors="replace") if record.value is not None else ""
        sealed = self.keys.seal(raw, purpose=DEAD_LETTER_PURPOSE) if self.keys is not None and raw else ""
        if envelope is not None:
            await session.execute(
                update(self.inbox)
                .where(self.inbox.c.consumer == self.name, self.inbox.c.event_id == envelope.event_id)
                .values(outcome="dead_letter")
            )
        await session.execute(
            insert(tables.dead_letters).values(
                consumer=self.name,
                event_id=envelope.event_id if envelope else None,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                raw=sealed,
                error=error,
                attempts=attempts,
            )
        )
        await self.outbox.append(
            session,
            topic=self.outbox.dead_letter_topic,
            key=envelope.dossier_id if envelope else f"{record.topic}:{record.partition}",
            message={
                "consumer": self.group_id,
                "error": error,
                "attempts": attempts,
                "source": {"topic": record.topic, "partition": record.partition, "offset": record.offset},
                "event_id": str(envelope.event_id) if envelope else None,
                "raw": redact_raw(raw),
            },
            # The trace context of the message goes along: the dead letter shows in its trace.
            headers={**tracing.trace_headers(record.headers), "consumer": self.group_id, "error": error[:200]},
        )
        DEAD_LETTERS.labels(self.name).inc()
        log.error(
            "message dead-lettered",
            extra=fields(consumer=self.name, topic=record.topic, partition=record.partition, offset=record.offset, error=error),
        )
