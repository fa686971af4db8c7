"""The outbox relay: publishes a service's committed outbox rows to Kafka, in commit order.

One relay per service publishes at a time (a PostgreSQL advisory lock elects it), so rows of one
dossier are never sent out of order by two replicas racing. A row is marked published only after
the broker acknowledged it (acks=all); a crash or broker outage in between means the row is sent
again, and consumers' inboxes drop the repeat."""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from datetime import timedelta

import asyncpg
from aiokafka import AIOKafkaProducer
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db import asyncpg_dsn
from services.kafka import create_producer
from services.messaging.tables import MessagingTables
from services.metrics import EVENTS_PUBLISHED, RELAY_LEADER
from services.settings import ServiceSettings
from services.work_queue import backoff_seconds, wait_for

log = logging.getLogger(__name__)

PUBLISHED_RETENTION = timedelta(days=7)


class OutboxRelay:
    def __init__(self, settings: ServiceSettings, engine: AsyncEngine, tables: MessagingTables) -> None:
        self.settings = settings
        self.engine = engine
        self.tables = tables
        self.lock_key = zlib.crc32(f"{tables.schema}.outbox-relay".encode())
        self.is_leader = False

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                await self._lead(stop)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database away: retry, nothing is lost
                failures += 1
                delay = backoff_seconds(failures, 0.5, 10.0)
                log.warning("outbox relay interrupted (%s); retrying in %.1fs", exc, delay)
                await wait_for(stop, delay)
            finally:
                self.is_leader = False
                RELAY_LEADER.set(0)

    async def _lead(self, stop: asyncio.Event) -> None:
        conn = await asyncpg.connect(asyncpg_dsn(self.settings.database_url))
        try:
            wake = asyncio.Event()
            await conn.add_listener(self.tables.notify_channel, lambda *_: wake.set())
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_key):
                if await wait_for(stop, 1.0):
                    return
            self.is_leader = True
            RELAY_LEADER.set(1)
            producer = create_producer(self.settings)
            await producer.start()
            try:
                purge_every, since_purge = 600, 0.0
                while not stop.is_set():
                    wake.clear()
                    sent = await self.publish_batch(producer, conn)
                    if conn.is_closed():
                        raise ConnectionError("lost the relay's lock connection")
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
            finally:
                await producer.stop()
        finally:
            await conn.close()

    async def publish_batch(self, producer: AIOKafkaProducer, conn: asyncpg.Connection) -> int:
        """Send the oldest unpublished rows and mark them published once the broker has them all.
        On the leader's own connection, with the message as the JSON text stored: nothing is
        decoded and encoded again on the way to Kafka."""
        schema = self.tables.schema
        rows = await conn.fetch(
            f"SELECT id, topic, key, message::text AS message, headers::text AS headers FROM {schema}.outbox "
            "WHERE published_at IS NULL ORDER BY id LIMIT $1",
            self.settings.relay_batch_size,
        )
        if not rows:
            return 0
        deliveries = []
        for row in rows:
            headers = json.loads(row["headers"])
            deliveries.append(
                await producer.send(
                    row["topic"],
                    value=row["message"].encode(),
                    key=row["key"].encode(),
                    headers=[(k, str(v).encode()) for k, v in headers.items()] if headers else None,
                )
            )
        await asyncio.gather(*deliveries)
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
