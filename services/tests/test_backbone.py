"""The event backbone over a real Kafka broker and a real PostgreSQL: outbox, relay, inbox,
dead letters, replicas sharing a group, and a broker restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError
from aiokafka.structs import ConsumerRecord
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, text
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from infra.stack import Stack
from services.audit import audit_table
from services.db import create_engine, create_sessionmaker
from services.events import Envelope, parse
from services.events.schemas import StepAssigned
from services.events.topics import all_topics, dead_letter_topic, stage_topic
from services.kafka import TopicShape, connection_options, create_topics
from services.messaging import IdempotentConsumer, Outbox, OutboxRelay, Subscription, messaging_tables
from services.messaging.dead_letters import ReplayError, list_dead_letters, replay_dead_letter
from services.messaging.migration import wake_relay_trigger
from services.messaging.relay import LeaseLost
from services.personal_data.keys import KeyRing, new_key, ring_text
from services.personal_data.retention import RetentionRule, enforce
from services.settings import KafkaAccess, ServiceSettings

LEASE_SECONDS = 2.0
CITIZEN_ID, PHONE, EMAIL = "079188123456", "0977123456", "tran.thi.mai@example.vn"
KEYS = KeyRing.from_text(ring_text({"k1": new_key()}))
metadata = MetaData(schema="kernel_test")
tables = messaging_tables(metadata)
audit_table(metadata)  # the outbox writes each event's line of the audit trail
applied = Table(
    "applied",
    metadata,
    Column("event_id", PgUUID(as_uuid=True), primary_key=True),
    Column("dossier_id", String(64), nullable=False),
    Column("step_id", String(64), nullable=False),
    Column("consumer_tag", String(16), nullable=False),
    Column("times", Integer, nullable=False),
)


@pytest.fixture(scope="module")
async def schema(apply_env: dict[str, str]) -> AsyncIterator[None]:
    engine = create_engine(ServiceSettings())
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS kernel_test CASCADE"))
        await conn.execute(text("CREATE SCHEMA kernel_test"))
        await conn.run_sync(metadata.create_all)
        for statement in wake_relay_trigger(tables):
            await conn.execute(text(statement))
    yield
    await engine.dispose()


@pytest.fixture
async def kit(schema: None, apply_env: dict[str, str]) -> AsyncIterator[Kit]:
    kit = Kit(f"k{uuid.uuid4().hex[:8]}")
    await create_topics(kit.settings, all_topics(kit.settings.topic_prefix), TopicShape.of(kit.settings))
    async with kit.engine.begin() as conn:
        for table in (applied, tables.outbox, tables.inbox, tables.dead_letters, tables.relay_lease):
            await conn.execute(table.delete())
    yield kit
    kit.stop.set()
    _, pending = await asyncio.wait(kit.tasks, timeout=20) if kit.tasks else (set(), set())
    for task in pending:
        task.cancel()
    await kit.engine.dispose()


class Kit:
    """One service's worth of backbone (as routing), on its own topic prefix."""

    def __init__(self, prefix: str) -> None:
        self.settings = ServiceSettings(
            service_name="routing",
            TOPIC_PREFIX=prefix,
            CONSUMER_MAX_ATTEMPTS=3,
            CONSUMER_RETRY_BACKOFF_MS=10,
            RELAY_LEASE_SECONDS=LEASE_SECONDS,
        )
        self.engine = create_engine(self.settings)
        self.sessionmaker = create_sessionmaker(self.engine)
        self.outbox = Outbox(tables, service="routing", topic_prefix=prefix)
        self.topic = stage_topic(prefix, "routing")
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def spawn(self, worker: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        self.tasks.append(asyncio.create_task(worker(self.stop)))

    async def emit(self, dossier_id: str, step_id: str) -> Envelope:
        async with self.sessionmaker() as session, session.begin():
            return await self.outbox.emit(session, step(step_id), dossier_id=dossier_id)

    def consumer(
        self, tag: str, handler: Callable[[AsyncSession, Envelope], Awaitable[None]] | None = None
    ) -> IdempotentConsumer:
        async def record(session: AsyncSession, envelope: Envelope) -> None:
            await session.execute(
                text(
                    "INSERT INTO kernel_test.applied (event_id, dossier_id, step_id, consumer_tag, times) VALUES (:e, :d, :s, :t, 1) "
                    "ON CONFLICT (event_id) DO UPDATE SET times = applied.times + 1"
                ),
                {"e": envelope.event_id, "d": envelope.dossier_id, "s": parse(envelope, StepAssigned).step_id, "t": tag},
            )

        subscription = Subscription(name="probe", sources=("routing",), handlers={StepAssigned.event_type: handler or record})
        return IdempotentConsumer(self.settings, self.sessionmaker, self.outbox, subscription, keys=KEYS)

    async def applied_rows(self) -> list[dict[str, object]]:
        async with self.sessionmaker() as session:
            return [dict(r) for r in (await session.execute(select(applied))).mappings().all()]

    async def wait_applied(self, count: int, timeout: float = 60) -> list[dict[str, object]]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            rows = await self.applied_rows()
            if len(rows) >= count or asyncio.get_running_loop().time() > deadline:
                return rows
            await asyncio.sleep(0.2)

    async def unpublished(self, settle: float = 10) -> int:
        """Rows not yet marked published, once the relay has had `settle` seconds to mark them."""
        deadline = asyncio.get_running_loop().time() + settle
        while True:
            async with self.sessionmaker() as session:
                count = (await session.execute(select(func.count()).where(tables.outbox.c.published_at.is_(None)))).scalar_one()
            if count == 0 or asyncio.get_running_loop().time() > deadline:
                return count
            await asyncio.sleep(0.2)


def step(step_id: str) -> StepAssigned:
    return StepAssigned(step_id=step_id, agency_code="A", agency_name="Agency", budget_hours=8, assigned_at=datetime.now(UTC))


async def read_topic(
    access: KafkaAccess, topic: str, expected: int, timeout: float = 30
) -> list[tuple[str, Envelope | dict[str, object]]]:
    for _attempt in range(20):
        consumer = AIOKafkaConsumer(topic, **connection_options(access), auto_offset_reset="earliest", enable_auto_commit=False)
        try:
            await consumer.start()
            break
        except KafkaConnectionError:
            await consumer.stop()
            await asyncio.sleep(1)
    out: list[tuple[str, Envelope | dict[str, object]]] = []

    def decode(value: bytes) -> Envelope | dict[str, object]:
        try:
            return Envelope.from_bytes(value)
        except ValueError:
            return json.loads(value)

    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(out) < expected and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                out.extend((r.key.decode(), decode(r.value)) for r in records)
        # anything more than expected would be a duplicate: give it a moment to show up
        for records in (await consumer.getmany(timeout_ms=1000)).values():
            out.extend((r.key.decode(), decode(r.value)) for r in records)
    finally:
        await consumer.stop()
    return out


async def test_committed_events_are_published_in_order_and_rolled_back_ones_never(kit: Kit) -> None:
    for i in range(5):
        await kit.emit("dossier-a", f"a{i}")
        await kit.emit("dossier-b", f"b{i}")
    with pytest.raises(RuntimeError):
        async with kit.sessionmaker() as session, session.begin():
            await kit.outbox.emit(session, step("ghost"), dossier_id="dossier-a")
            raise RuntimeError("the state change failed, so its event must not exist")
    kit.spawn(OutboxRelay(kit.settings, kit.engine, tables).run)
    messages = await read_topic(kit.settings, kit.topic, expected=10)
    by_key: dict[str, list[str]] = defaultdict(list)
    for key, envelope in messages:
        assert isinstance(envelope, Envelope)
        assert key == envelope.dossier_id
        by_key[key].append(envelope.payload["step_id"])
    assert by_key == {"dossier-a": [f"a{i}" for i in range(5)], "dossier-b": [f"b{i}" for i in range(5)]}
    assert await kit.unpublished() == 0


async def test_two_relays_publish_each_event_once(kit: Kit) -> None:
    for i in range(50):
        await kit.emit(f"d{i % 7}", f"s{i}")
    kit.spawn(OutboxRelay(kit.settings, kit.engine, tables).run)
    kit.spawn(OutboxRelay(kit.settings, kit.engine, tables).run)
    for i in range(50, 100):
        await kit.emit(f"d{i % 7}", f"s{i}")
    messages = await read_topic(kit.settings, kit.topic, expected=100)
    ids = [m.event_id for _, m in messages if isinstance(m, Envelope)]
    assert len(ids) == 100 and len(set(ids)) == 100


async def test_redelivered_event_is_applied_once(kit: Kit) -> None:
    envelope = step("once").envelope(dossier_id="dossier-r", producer="routing")
    producer = AIOKafkaProducer(**connection_options(kit.settings))
    await producer.start()
    try:
        for _ in range(3):  # as a relay that crashed before marking its row would send it again
            await producer.send_and_wait(kit.topic, envelope.to_bytes(), key=b"dossier-r")
        await producer.send_and_wait(
            kit.topic, step("after").envelope(dossier_id="dossier-r", producer="routing").to_bytes(), key=b"dossier-r"
        )
    finally:
        await producer.stop()
    kit.spawn(kit.consumer("c1").run)
    rows = await kit.wait_applied(2)
    await asyncio.sleep(1)
    rows = await kit.applied_rows()
    assert sorted(r["step_id"] for r in rows) == ["after", "once"]
    assert all(r["times"] == 1 for r in rows)


async def test_replicas_in_one_group_share_the_work_without_duplicates(kit: Kit) -> None:
    kit.spawn(OutboxRelay(kit.settings, kit.engine, tables).run)
    replicas = [kit.consumer("c1"), kit.consumer("c2")]
    for replica in replicas:
        kit.spawn(replica.run)
    await asyncio.wait_for(asyncio.gather(*(r.assigned.wait() for r in replicas)), 60)
    for i in range(300):
        await kit.emit(f"dossier-{i}", f"s{i}")
    rows = await kit.wait_applied(300, timeout=90)
    assert len(rows) == 300
    assert all(r["times"] == 1 for r in rows)
    assert {r["consumer_tag"] for r in rows} == {"c1", "c2"}, "both replicas should have taken partitions"


async def test_a_poison_message_goes_to_the_dead_letter_topic_and_can_be_replayed(kit: Kit) -> None:
    fixed = False

    async def fragile(session: AsyncSession, envelope: Envelope) -> None:
        if parse(envelope, StepAssigned).step_id == "poison" and not fixed:
            raise ValueError("agency code unknown")
        await session.execute(
            text(
                "INSERT INTO kernel_test.applied VALUES (:e, :d, :s, 'c1', 1) ON CONFLICT (event_id) DO UPDATE SET times = applied.times + 1"
            ),
            {"e": envelope.event_id, "d": envelope.dossier_id, "s": parse(envelope, StepAssigned).step_id},
        )

    consumer = kit.consumer("c1", fragile)
    kit.spawn(OutboxRelay(kit.settings, kit.engine, tables).run)
    kit.spawn(consumer.run)
    await kit.emit("dossier-p", "poison")
    await kit.emit("dossier-p", "next")
    rows = await kit.wait_applied(1)
    assert [r["step_id"] for r in rows] == ["next"], "the partition moved on past the poison message"

    letters = await list_dead_letters(kit.sessionmaker, tables)
    assert len(letters) == 1 and "agency code unknown" in letters[0].error and letters[0].attempts == 3
    dlq = await read_topic(kit.settings, dead_letter_topic(kit.settings.topic_prefix), expected=1)
    assert len(dlq) == 1 and "agency code unknown" in dlq[0][1]["error"]  # type: ignore[index]

    with pytest.raises(ReplayError):  # still broken: replay refused, nothing changes
        await replay_dead_letter(kit.sessionmaker, tables, {"probe": consumer}, letters[0].id)
    fixed = True
    await replay_dead_letter(kit.sessionmaker, tables, {"probe": consumer}, letters[0].id)
    with pytest.raises(ReplayError):
        await replay_dead_letter(kit.sessionmaker, tables, {"probe": consumer}, letters[0].id)
    rows = await kit.applied_rows()
    assert sorted((r["step_id"], r["times"]) for r in rows) == [("next", 1), ("poison", 1)]
    assert await list_dead_letters(kit.sessionmaker, tables) == []


async def test_an_event_that_meets_a_lock_conflict_is_applied_again_and_never_dead_lettered(kit: Kit) -> None:
    """Replicas, and the API, lock the same dossiers: PostgreSQL then aborts one transaction as a
    deadlock. That says nothing against the message, however often it happens."""
    conflicts = 0

    async def contended(session: AsyncSession, envelope: Envelope) -> None:
        nonlocal conflicts
        if parse(envelope, StepAssigned).step_id == "contended" and conflicts < 5:  # more than CONSUMER_MAX_ATTEMPTS
            conflicts += 1
            raise asyncpg.exceptions.DeadlockDetectedError("deadlock detected")
        await session.execute(
            text(
                "INSERT INTO kernel_test.applied VALUES (:e, :d, :s, 'c1', 1) ON CONFLICT (event_id) DO UPDATE SET times = applied.times + 1"
            ),
            {"e": envelope.event_id, "d": envelope.dossier_id, "s": parse(envelope, StepAssigned).step_id},
        )

    def record(offset: int, envelope: Envelope) -> ConsumerRecord[bytes, bytes]:
        value = envelope.to_bytes()
        return ConsumerRecord(kit.topic, 0, offset, 0, 0, envelope.dossier_id.encode(), value, None, 0, len(value), [])

    batch = [
        record(i, step(step_id).envelope(dossier_id=dossier, producer="routing"))
        for i, (dossier, step_id) in enumerate((("dossier-y", "first"), ("dossier-x", "contended"), ("dossier-y", "after")))
    ]
    await kit.consumer("c1", contended).apply(batch)

    rows = await kit.applied_rows()
    assert sorted((r["step_id"], r["times"]) for r in rows) == [("after", 1), ("contended", 1), ("first", 1)]
    assert conflicts == 5 and await list_dead_letters(kit.sessionmaker, tables) == []


async def lease_row() -> dict[str, object] | None:
    conn = await asyncpg.connect(os.environ["DATABASE_URL"].replace("+asyncpg", ""))
    try:
        row = await conn.fetchrow("SELECT holder, epoch, expires_at FROM kernel_test.relay_lease")
        return dict(row) if row else None
    finally:
        await conn.close()


# A relay in a process of its own, to be frozen with SIGSTOP as a host that hangs or vanishes
# without closing its connection.
RELAY_PROCESS = """
import asyncio, os
from sqlalchemy import MetaData
from services.db import create_engine
from services.messaging import OutboxRelay, messaging_tables
from services.settings import ServiceSettings

async def main():
    settings = ServiceSettings(service_name="routing", TOPIC_PREFIX=os.environ["PROBE_PREFIX"])
    await OutboxRelay(settings, create_engine(settings), messaging_tables(MetaData(schema="kernel_test"))).run(asyncio.Event())

asyncio.run(main())
"""


async def test_a_frozen_relay_loses_its_lease_to_another_and_cannot_take_it_back(kit: Kit) -> None:
    frozen = subprocess.Popen(
        [sys.executable, "-c", RELAY_PROCESS],
        env={**os.environ, "PROBE_PREFIX": kit.settings.topic_prefix, "RELAY_LEASE_SECONDS": str(LEASE_SECONDS)},
    )
    try:
        for _ in range(100):  # the first relay leads
            row = await lease_row()
            if row and f":{frozen.pid}:" in str(row["holder"]):
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("the relay process never took the lease")
        first_epoch = row["epoch"]
        survivor = OutboxRelay(kit.settings, kit.engine, tables)
        kit.spawn(survivor.run)
        await asyncio.sleep(LEASE_SECONDS)
        assert not survivor.is_leader  # one leader while the first renews its lease

        frozen.send_signal(signal.SIGSTOP)  # its connection stays open, its renewals stop
        for i in range(5):
            await kit.emit(f"d{i}", f"frozen{i}")
        messages = await read_topic(kit.settings, kit.topic, expected=5, timeout=LEASE_SECONDS * 5)
        assert sorted(m.payload["step_id"] for _, m in messages if isinstance(m, Envelope)) == [f"frozen{i}" for i in range(5)]
        assert survivor.is_leader and survivor.epoch == first_epoch + 1
        assert await kit.unpublished() == 0

        frozen.send_signal(signal.SIGCONT)  # it wakes up to find the lease taken over, and follows
        await asyncio.sleep(LEASE_SECONDS * 1.5)
        row = await lease_row()
        assert row is not None and row["epoch"] == survivor.epoch and survivor.is_leader
        assert f":{frozen.pid}:" not in str(row["holder"])
    finally:
        frozen.send_signal(signal.SIGCONT)
        frozen.kill()
        frozen.wait()


async def test_a_killed_relay_is_replaced_at_once_without_waiting_out_its_lease(kit: Kit) -> None:
    killed = subprocess.Popen(  # a lease far longer than the test waits
        [sys.executable, "-c", RELAY_PROCESS],
        env={**os.environ, "PROBE_PREFIX": kit.settings.topic_prefix, "RELAY_LEASE_SECONDS": "600"},
    )
    try:
        for _ in range(100):
            row = await lease_row()
            if row and f":{killed.pid}:" in str(row["holder"]):
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("the relay process never took the lease")
        survivor = OutboxRelay(kit.settings, kit.engine, tables)
        kit.spawn(survivor.run)
        killed.kill()  # SIGKILL: its connections close with it, its lease has ten minutes to run
        killed.wait()
        for i in range(3):
            await kit.emit(f"k{i}", f"killed{i}")
        messages = await read_topic(kit.settings, kit.topic, expected=3, timeout=20)
        assert sorted(m.payload["step_id"] for _, m in messages if isinstance(m, Envelope)) == [f"killed{i}" for i in range(3)]
        assert survivor.is_leader and survivor.epoch == row["epoch"] + 1
    finally:
        killed.kill()
        killed.wait()


async def test_a_holder_frozen_inside_its_marking_transaction_does_not_keep_the_relay_from_the_others(kit: Kit) -> None:
    """Frozen between the lease check (which locks the lease row) and its commit, a holder would
    block every takeover for as long as it stays frozen; the server ends its idle transaction."""
    frozen, other = OutboxRelay(kit.settings, kit.engine, tables), OutboxRelay(kit.settings, kit.engine, tables)
    held = await frozen.connect()
    waiting = await other.connect()
    try:
        epoch = await frozen.lease.acquire(held)
        assert epoch is not None
        marking = held.transaction()
        await marking.start()
        await frozen.lease.check(held, epoch)  # ...and nothing more from this process: it is frozen here
        started = asyncio.get_running_loop().time()
        taken = None
        while taken is None and asyncio.get_running_loop().time() - started < LEASE_SECONDS * 6:
            try:
                taken = await other.lease.acquire(waiting)
            except TimeoutError:  # blocked on the frozen holder's lock for a whole statement timeout
                pass
            if taken is None:
                await asyncio.sleep(0.2)
        assert taken == epoch + 1, "the frozen holder's lock kept the relay from the other replica"
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)):
            await frozen.lease.check(held, epoch)  # on waking: its session was ended, its marking undone
    finally:
        held.terminate()
        await waiting.close()


class RecordingProducer:
    """Stands in for the Kafka producer: acknowledges every send at once, after `on_send`."""

    def __init__(self, on_send: Callable[[], Awaitable[None]] | None = None) -> None:
        self.sent: list[bytes] = []
        self.on_send = on_send

    async def send(self, topic: str, value: bytes, key: bytes, headers: object = None) -> asyncio.Future[None]:
        if self.on_send is not None:
            await self.on_send()
            self.on_send = None
        self.sent.append(value)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_a_relay_that_lost_its_lease_cannot_mark_rows_sent(kit: Kit) -> None:
    for i in range(3):
        await kit.emit("dossier-f", f"f{i}")
    old, new = OutboxRelay(kit.settings, kit.engine, tables), OutboxRelay(kit.settings, kit.engine, tables)
    old_conn, new_conn = await old.connect(), await new.connect()
    try:
        old_epoch = await old.lease.acquire(old_conn)
        assert old_epoch is not None and await new.lease.acquire(new_conn) is None  # one holder at a time

        async def taken_over_while_sending() -> None:  # the old holder froze past its lease mid-batch
            await new_conn.execute("UPDATE kernel_test.relay_lease SET expires_at = now() - interval '1 second'")
            assert await new.lease.acquire(new_conn) == old_epoch + 1
            assert not await old.lease.renew(old_conn, old_epoch)

        producer = RecordingProducer(taken_over_while_sending)
        with pytest.raises(LeaseLost):
            await old.publish_batch(producer, old_conn, old_epoch)  # type: ignore[arg-type]
        assert await kit.unpublished(settle=0) == 3  # the rows are the new holder's to mark

        late = RecordingProducer()
        with pytest.raises(LeaseLost):
            await old.publish_batch(late, old_conn, old_epoch)  # type: ignore[arg-type]
        assert late.sent == []  # and it publishes nothing more once it has seen the lease gone

        assert await new.publish_batch(RecordingProducer(), new_conn, old_epoch + 1) == 3  # type: ignore[arg-type]
        assert await kit.unpublished(settle=0) == 0
    finally:
        await old_conn.close()
        await new_conn.close()


async def test_relay_survives_a_broker_restart_without_loss_or_reordering(kit: Kit, stack: Stack) -> None:
    kit.spawn(OutboxRelay(kit.settings, kit.engine, tables).run)
    for i in range(20):
        await kit.emit(f"dossier-{i % 4}", f"{i:03d}")
    await asyncio.sleep(2)
    await asyncio.to_thread(stack.kafka.kill)
    for i in range(20, 40):  # accepted while the broker is down: kept in the outbox
        await kit.emit(f"dossier-{i % 4}", f"{i:03d}")
    await asyncio.to_thread(stack.kafka.up)
    assert stack.kafka.running(), "the broker came back"
    for i in range(40, 60):
        await kit.emit(f"dossier-{i % 4}", f"{i:03d}")
    messages = await read_topic(kit.settings, kit.topic, expected=60, timeout=90)
    firsts: dict[str, list[str]] = defaultdict(list)
    seen: set[uuid.UUID] = set()
    for key, envelope in messages:
        assert isinstance(envelope, Envelope)
        if envelope.event_id not in seen:  # a repeat after the outage is allowed; the inbox drops it
            seen.add(envelope.event_id)
            firsts[key].append(envelope.payload["step_id"])
    assert len(seen) == 60
    for d in range(4):
        assert firsts[f"dossier-{d}"] == [f"{i:03d}" for i in range(60) if i % 4 == d]
    assert await kit.unpublished() == 0


async def test_applied_offsets_are_committed_once_the_consumer_is_idle(kit: Kit) -> None:
    """Offsets are committed at most once a second, and at once when nothing more comes: a consumer
    that restarts after a quiet moment does not read the applied events again."""
    consumer = kit.consumer("c1")
    kit.spawn(OutboxRelay(kit.settings, kit.engine, tables).run)
    kit.spawn(consumer.run)
    for i in range(20):
        await kit.emit(f"dossier-{i}", f"s{i}")
    assert len(await kit.wait_applied(20)) == 20

    probe = AIOKafkaConsumer(**connection_options(kit.settings), group_id=consumer.group_id, enable_auto_commit=False)
    await probe.start()
    try:
        partitions = [
            TopicPartition(kit.topic, p) for p in probe.partitions_for_topic(kit.topic) or range(kit.settings.topic_partitions)
        ]
        end = await probe.end_offsets(partitions)

        async def committed() -> int:
            return sum([await probe.committed(tp) or 0 for tp in partitions])

        deadline = asyncio.get_running_loop().time() + 15
        while await committed() < sum(end.values()) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.2)
        assert await committed() == sum(end.values()) == 20
    finally:
        await probe.stop()


async def test_a_poison_message_with_personal_data_leaves_none_of_it_in_the_failure_trail(
    kit: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    """The dead letter's row keeps the message sealed (and a replay opens it); the dead-letter topic,
    its headers, the row's error and the log line name the field and the rule, never the values."""
    keys = KEYS
    consumer = kit.consumer("c1", parse_strictly)
    kit.spawn(OutboxRelay(kit.settings, kit.engine, tables).run)
    kit.spawn(consumer.run)
    poison = step("p1").envelope(dossier_id="dossier-pd", producer="routing")
    payload = {**poison.payload, "applicant": {"citizen_id": CITIZEN_ID, "phone": PHONE, "email": EMAIL}}
    raw = poison.model_copy(update={"payload": payload}).to_bytes()
    producer = AIOKafkaProducer(**connection_options(kit.settings))
    await producer.start()
    try:
        await producer.send_and_wait(kit.topic, raw, key=b"dossier-pd")
    finally:
        await producer.stop()

    dlq = await read_topic(kit.settings, dead_letter_topic(kit.settings.topic_prefix), expected=1)
    assert len(dlq) == 1
    letter = dlq[0][1]
    assert isinstance(letter, dict) and "applicant" in letter["error"], "the error names the field"
    async with kit.engine.connect() as conn:
        row = (await conn.execute(select(tables.dead_letters))).mappings().one()
    assert row["raw"].startswith("pd1.k1.") and keys.open(row["raw"], purpose="dead_letters.raw") == raw.decode()
    consumer_headers = await read_headers(kit.settings, dead_letter_topic(kit.settings.topic_prefix))
    for where, text_ in (
        ("the row's error", row["error"]),
        ("the topic's copy", json.dumps(letter, ensure_ascii=False)),
        ("the Kafka headers", consumer_headers),
        ("the log", caplog.text),
    ):
        for value in (CITIZEN_ID, PHONE, EMAIL):
            assert value not in text_, f"{value} in {where}"
    assert letter["raw"] and "[redacted]" in letter["raw"], "the topic's copy still shows the message's shape"

    rule = RetentionRule(
        "dead_letter_payloads",
        timedelta(days=14),
        "UPDATE kernel_test.dead_letters SET raw = '' WHERE id IN (SELECT id FROM kernel_test.dead_letters "
        "WHERE raw <> '' AND failed_at < $1 LIMIT $2) RETURNING NULL::text AS dossier_id",
    )
    now = datetime.now(UTC)
    assert await enforce(kit.sessionmaker, "kernel_test", "routing", [rule], now) == {"dead_letter_payloads": 0}, (
        "a fresh dead letter keeps its message"
    )
    later = now + timedelta(days=15)
    assert await enforce(kit.sessionmaker, "kernel_test", "routing", [rule], later) == {"dead_letter_payloads": 1}
    (letter_row,) = await list_dead_letters(kit.sessionmaker, tables)
    with pytest.raises(ReplayError) as refused:
        await replay_dead_letter(kit.sessionmaker, tables, {"probe": consumer}, letter_row.id)
    assert refused.value.status == 410


async def parse_strictly(session: AsyncSession, envelope: Envelope) -> None:
    parse(envelope, StepAssigned)


async def read_headers(access: KafkaAccess, topic: str) -> str:
    consumer = AIOKafkaConsumer(topic, **connection_options(access), auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=5000)
        return " ".join(f"{k}={v.decode(errors='replace')}" for rs in batches.values() for r in rs for k, v in r.headers)
    finally:
        await consumer.stop()
