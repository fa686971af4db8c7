"""The outbox relay: publishes a service's committed outbox rows to Kafka, in commit order.

One relay per service publishes at a time, so rows of one dossier are never sent out of order by
two replicas racing. Leadership is a lease in the service's `relay_lease` table, not a session
lock: a session lock stays with a host that vanished without closing its connection until TCP
gives up, and no event leaves the outbox meanwhile. The holder renews the lease every third of
`RELAY_LEASE_SECONDS`; once it has expired another replica takes it over and increments its epoch.

Fencing: the holder marks rows published in a transaction that first checks, under a share lock
on the lease row, that the lease is still its own, with its epoch, and not expired. A holder that
was frozen (SIGSTOP, a long pause) and wakes up after a takeover cannot mark anything and stops
publishing as soon as it sees the lease gone; what it sent meanwhile is sent again by the new
holder, and consumers' inboxes drop the repeat.

A row is marked published only after the broker acknowledged it (acks=all); a crash or broker
outage in between means the row is sent again, and consumers' inboxes drop the repeat.

A row's headers (the trace context of the span that created its event: `services.tracing`) go
out as the Kafka message's headers; with tracing on, each row is sent in a `send <topic>` span
under that span, ended when the broker has acknowledged it."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from datetime import timedelta

import asyncpg
from aiokafka import AIOKafkaProducer
from opentelemetry.trace import Span, StatusCode
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services import tracing
from services.db import asyncpg_dsn
from services.kafka import create_producer
from services.messaging.tables import MessagingTables
from services.metrics import EVENTS_PUBLISHED, RELAY_LEADER
from services.settings import ServiceSettings
from services.work_queue import backoff_seconds, wait_for

log = logging.getLogger(__name__)

PUBLISHED_RETENTION = timedelta(days=7)
LEASE_NAME = "outbox-relay"

# TCP keepalives on the relay's connections, set on the server side of each socket: PostgreSQL
# notices a relay host that vanished within about half a minute instead of the kernel's two hours.
KEEPALIVES = {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5", "tcp_keepalives_count": "3"}


class LeaseLost(Exception):
    """The relay's lease expired or was taken over: it must not mark rows nor publish any more."""


class RelayLease:
    """The lease row of one schema's outbox relay: taken, renewed, checked and given back."""

    def __init__(self, tables: MessagingTables, holder: str, seconds: float) -> None:
        self.table = f"{tables.schema}.relay_lease"
        self.holder = holder
        self.seconds = seconds

    async def acquire(self, conn: asyncpg.Connection) -> int | None:
        """Take the lease if nobody holds it, it has expired, or its holder has no connection left
        (every relay connection carries the holder's name): the new epoch, or None. A holder whose
        host vanished still has connections until keepalives end them: then the lease runs out."""
        return await conn.fetchval(
            f"INSERT INTO {self.table} AS lease (name, holder, epoch, expires_at) "
            "VALUES ($1, $2, 1, now() + make_interval(secs => $3)) "
            "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, epoch = lease.epoch + 1, "
            "expires_at = EXCLUDED.expires_at WHERE lease.expires_at < now() "
            # A holder whose process died has no connection left: no need to wait out its lease.
            "OR NOT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = lease.holder) RETURNING epoch",
            LEASE_NAME,
            self.holder,
            self.seconds,
        )

    async def renew(self, conn: asyncpg.Connection, epoch: int) -> bool:
        """Extend the lease if it is still ours with `epoch` (expired but not taken over counts)."""
        renewed = await conn.fetchval(
            f"UPDATE {self.table} SET expires_at = now() + make_interval(secs => $3) "
            "WHERE name = $1 AND holder = $2 AND epoch = $4 RETURNING epoch",
            LEASE_NAME,
            self.holder,
            self.seconds,
            epoch,
        )
        return renewed is not None

    async def check(self, conn: asyncpg.Connection, epoch: int) -> None:
        """Raise LeaseLost unless the lease is ours, with `epoch`, and unexpired. Inside a
        transaction the row stays share-locked: a takeover waits until that transaction ends."""
        held = await conn.fetchval(
            f"SELECT epoch FROM {self.table} WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires_at > now() FOR SHARE",
            LEASE_NAME,
            self.holder,
            epoch,
        )
        if held is None:
            raise LeaseLost(f"{self.holder} no longer holds the relay lease of epoch {epoch}")

    async def release(self, conn: asyncpg.Connection, epoch: int) -> None:
        """Let the lease expire now, so another replica takes over without waiting."""
        await conn.execute(
            f"UPDATE {self.table} SET expires_at = now() WHERE name = $1 AND holder = $2 AND epoch = $3",
            LEASE_NAME,
            self.holder,
            epoch,
        )


class OutboxRelay:
    def __init__(self, settings: ServiceSettings, engine: AsyncEngine, tables: MessagingTables) -> None:
        self.settings = settings
        self.engine = engine
        self.tables = tables
        self.lease = RelayLease(
            # Also the application_name of its connections, which PostgreSQL cuts at 63 characters.
            tables,
            f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
            settings.relay_lease_seconds,
        )
        self.is_leader = False
        self.epoch: int | None = None

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                await self._lead(stop)
                failures = 0
            except asyncio.CancelledError:
                raise
            except LeaseLost as exc:  # another replica leads now: follow, ready to take over again
                log.warning("outbox relay stepped down: %s", exc)
                failures = 0
            except Exception as exc:  # broker or database away: retry, nothing is lost
                failures += 1
                delay = backoff_seconds(failures, 0.5, 10.0)
                log.warning("outbox relay interrupted (%s); retrying in %.1fs", exc, delay)
                await wait_for(stop, delay)
            finally:
                self.is_leader = False
                self.epoch = None
                RELAY_LEADER.set(0)

    async def connect(self) -> asyncpg.Connection:
        """A connection of the relay's own, with TCP keepalives and bounded statements. A holder
        frozen inside its marking transaction holds the lease row's lock, which would keep every
        other replica from taking over for as long as it stays frozen: the server ends such an idle
        transaction (and the session) after half a lease, the marking is undone and its rows are
        published again by the next holder (the consumers' inboxes drop the repeats)."""
        idle_ms = max(int(self.settings.relay_lease_seconds * 500), 500)
        return await asyncpg.connect(
            asyncpg_dsn(self.settings.database_url),
            server_settings={
                **KEEPALIVES,
                "application_name": self.lease.holder,
                "idle_in_transaction_session_timeout": str(idle_ms),
            },
            command_timeout=max(self.settings.relay_lease_seconds, 5.0),
        )

    async def _lead(self, stop: asyncio.Event) -> None:
        conn = await self.connect()
        renewer: asyncio.Task[None] | None = None
        try:
            wake = asyncio.Event()
            await conn.add_listener(self.tables.notify_channel, lambda *_: wake.set())
            while (epoch := await self.lease.acquire(conn)) is None:
                if await wait_for(stop, min(1.0, self.settings.relay_lease_seconds / 3)):
                    return
            self.epoch = epoch
            self.is_leader = True
            RELAY_LEADER.set(1)
            lost = asyncio.Event()
            renewer = asyncio.create_task(self.renew(epoch, lost, stop), name=f"{self.tables.schema}-relay-lease")
            producer = create_producer(self.settings)
            await producer.start()
            try:
                purge_every, since_purge = 600, 0.0
                while not stop.is_set():
                    if lost.is_set():
                        raise LeaseLost(f"the relay lease of epoch {epoch} was taken over")
                    wake.clear()
                    sent = await self.publish_batch(producer, conn, epoch)
                    if conn.is_closed():
                        raise ConnectionError("lost the relay's connection")
                    if sent < self.settings.relay_batch_size:
                        waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
                        await asyncio.wait(
                            waiters, timeout=self.settings.relay_poll_interval_ms / 1000, return_when=asyncio.FIRST_COMPLETED
                        )
                        for waiter in waiters:  # an idle relay would otherwise pile up a waiting task per poll
                            waiter.cancel()
                        since_purge += self.settings.relay_poll_interval_ms / 1000
                    if since_purge >= purge_every:
                        await self.purge_published()
                        since_purge = 0.0
                if stop.is_set() and not conn.is_closed():
                    await self.lease.release(conn, epoch)
            finally:
                await producer.stop()
        finally:
            if renewer is not None:
                renewer.cancel()
            await conn.close()

    async def renew(self, epoch: int, lost: asyncio.Event, stop: asyncio.Event) -> None:
        """Renew the lease every third of its length on a connection of its own (the leader's may
        be busy with a batch); set `lost` once it has been taken over."""
        conn: asyncpg.Connection | None = None
        try:
            while not await wait_for(stop, self.settings.relay_lease_seconds / 3):
                try:
                    if conn is None or conn.is_closed():
                        conn = await self.connect()
                    if not await self.lease.renew(conn, epoch):
                        lost.set()
                        return
                except (OSError, asyncpg.PostgresError, TimeoutError) as exc:  # the check when marking rows decides
                    log.warning("could not renew the outbox relay lease (%s)", exc)
                    if conn is not None:
                        conn.terminate()
                        conn = None
        finally:
            if conn is not None:
                conn.terminate()

    async def publish_batch(self, producer: AIOKafkaProducer, conn: asyncpg.Connection, epoch: int) -> int:
        """Send the oldest unpublished rows and mark them published once the broker has them all,
        if the lease is still ours with `epoch` (LeaseLost otherwise, before sending anything if
        it is already gone). On the leader's own connection, with the message as the JSON text
        stored: nothing is decoded and encoded again on the way to Kafka."""
        schema = self.tables.schema
        await self.lease.check(conn, epoch)
        rows = await conn.fetch(
            f"SELECT id, topic, key, message::text AS message, headers::text AS headers FROM {schema}.outbox "
            "WHERE published_at IS NULL ORDER BY id LIMIT $1",
            self.settings.relay_batch_size,
        )
        if not rows:
            return 0
        deliveries = []
        spans: list[Span] = []  # with tracing on, a `send` span per row under the span that created it
        try:
            for row in rows:
                headers = json.loads(row["headers"])
                if tracing.enabled():
                    spans.append(tracing.sending(headers, row["topic"], row["key"]))
                deliveries.append(
                    await producer.send(
                        row["topic"],
                        value=row["message"].encode(),
                        key=row["key"].encode(),
                        headers=tracing.kafka_headers(headers),
                    )
                )
            await asyncio.gather(*deliveries)
        except Exception as exc:
            for span in spans:
                span.record_exception(exc)
                span.set_status(StatusCode.ERROR)
            raise
        finally:
            for span in spans:
                span.end()
        async with conn.transaction():
            await self.lease.check(conn, epoch)
            await conn.execute(
                f"UPDATE {schema}.outbox SET published_at = now() WHERE id = ANY($1::bigint[])", [r["id"] for r in rows]
            )
        for row in rows:
            EVENTS_PUBLISHED.labels(row["topic"]).inc()
        return len(rows)

    async def purge_published(self) -> None:
        outbox = self.tables.outbox
        async with self.engine.begin() as conn:
            await conn.execute(delete(outbox).where(outbox.c.published_at < func.now() - PUBLISHED_RETENTION))

    async def pending(self) -> int:
        outbox = self.tables.outbox
        async with self.engine.connect() as conn:
            return (await conn.execute(select(func.count()).where(outbox.c.published_at.is_(None)))).scalar_one()
