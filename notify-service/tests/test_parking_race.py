"""Two notify replicas and one dossier, over the real PostgreSQL of the test stack.

Replica A reads the dossier's `routing.route_completed` before its receipt (topics are read
independently, by different replicas). A is stopped after it found no contact, before it parks
the event and commits; replica B applies `dossier.received` for the same dossier meanwhile (after
the contact, from intake's private stream; or a receipt written with its applicant).
The dossier's lock, taken by A before it looked for the contact, makes B wait until A has parked
and committed, so B releases what A parked: the citizen is told the result is ready, once, and
nothing stays parked. Without the lock, B keeps the contact and finds nothing to release before A
parks, and the event would wait for ever.

The test has a database of its own: the notices it leaves pending must not reach the dispatcher
of a notify that later tests run on the session's database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka.structs import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import own_database
from infra.stack import Stack
from notify.application.ports import NoticeRepository, NotifyWork
from notify.domain.policy import DossierContact
from notify.service import Notify, definition
from notify.settings import NotifySettings
from services.db import asyncpg_dsn
from services.events import Envelope
from services.events.schemas import ApplicantContact, RouteCompleted
from services.migrations import upgrade
from services.runtime import Runtime

from .conftest import apart_envelopes, received

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TIMEOUT = 15.0
WAITING_FOR_A_LOCK = """
    SELECT count(*) FROM pg_locks
    WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    """


@pytest.fixture(scope="module")
def database_url(stack: Stack, session_id: str) -> Iterator[str]:
    with own_database(stack, f"motcua_np_{session_id}") as url:
        upgrade(Path(definition.migrations), url)
        yield url


def replica(database_url: str, issuer: str, tmp_path: Path) -> Runtime[NotifySettings, Notify]:
    settings = NotifySettings(
        service_name="notify", DATABASE_URL=database_url, OIDC_ISSUER=issuer, NOTIFY_SINK_PATH=str(tmp_path / "sink.jsonl")
    )
    return Runtime(definition, settings)


class StoppedAfterNoContact:
    """Replica A's repository: once it finds no contact for the dossier, it says so and waits for the gate."""

    def __init__(self, inner: NoticeRepository, dossier_id: UUID, found_none: asyncio.Event, gate: asyncio.Event) -> None:
        self.inner = inner
        self.dossier_id = dossier_id
        self.found_none = found_none
        self.gate = gate

    async def contact(self, dossier_id: UUID) -> DossierContact | None:
        found = await self.inner.contact(dossier_id)
        if found is None and dossier_id == self.dossier_id and not self.gate.is_set():
            self.found_none.set()
            await self.gate.wait()
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def stop_after_no_contact(notify: Notify, dossier_id: UUID, found_none: asyncio.Event, gate: asyncio.Event) -> None:
    bind = notify.uow.bind

    def gated(session: AsyncSession) -> NotifyWork:
        work = bind(session)
        return replace(work, notices=StoppedAfterNoContact(work.notices, dossier_id, found_none, gate))

    notify.uow.bind = gated  # the consumer binds through `notify.uow` for each event


def record(source: str, envelope: Envelope) -> ConsumerRecord[bytes, bytes]:
    value = envelope.to_bytes()
    return ConsumerRecord(f"test.{source}", 0, 0, 0, 0, envelope.dossier_id.encode(), value, None, 0, len(value), [])


def receipt(dossier_id: str) -> Envelope:
    return received(
        ApplicantContact(name="Trần Văn Bình", phone="0912000042", notify_channels=["sms"]), seq=42, dossier_id=dossier_id
    )


async def waiting_on_a_lock_or_done(connection: asyncpg.Connection, task: asyncio.Task[None]) -> None:
    """Until B is queued on a lock (or, without one, has finished): a condition, not a guess at a delay."""
    while not task.done() and not await connection.fetchval(WAITING_FOR_A_LOCK):
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("sent_as", ["apart", "with_applicant"])
async def test_an_event_parked_by_one_replica_while_another_applies_the_receipt_is_not_left_parked(
    database_url: str, stack: Stack, tmp_path: Path, sent_as: str
) -> None:
    issuer = stack.profile.issuer
    replica_a, replica_b = replica(database_url, issuer, tmp_path), replica(database_url, issuer, tmp_path)
    observer = await asyncpg.connect(asyncpg_dsn(database_url))
    dossier_id = str(uuid4())
    found_none, gate = asyncio.Event(), asyncio.Event()
    stop_after_no_contact(replica_a.wiring, UUID(dossier_id), found_none, gate)
    result_ready = RouteCompleted(completed_at=NOW).envelope(dossier_id=dossier_id, producer="routing")
    tasks: list[asyncio.Task[None]] = []
    try:
        a = asyncio.create_task(replica_a.consumers["notices"].apply([record("routing", result_ready)]))
        tasks.append(a)
        await asyncio.wait_for(found_none.wait(), TIMEOUT)  # A found no contact and waits, holding what it holds

        # The contact (on the private stream) and the receipt, as intake sends them; or a receipt
        # written with its applicant, before contacts travelled apart.
        if sent_as == "apart":
            given, receipt_only = apart_envelopes(receipt(dossier_id))
            records = [record("intake.contacts", given), record("intake", receipt_only)]
        else:
            records = [record("intake", receipt(dossier_id))]
        b = asyncio.create_task(replica_b.consumers["notices"].apply(records))
        tasks.append(b)
        await asyncio.wait_for(waiting_on_a_lock_or_done(observer, b), TIMEOUT)
        gate.set()  # A parks the event and commits; B goes on
        await asyncio.wait_for(asyncio.gather(a, b), TIMEOUT)

        parked = await observer.fetchval("SELECT count(*) FROM notify.parked_events WHERE dossier_id = $1", UUID(dossier_id))
        notices = await observer.fetch(
            "SELECT trigger, channel, status FROM notify.notices WHERE dossier_id = $1 ORDER BY created_at", UUID(dossier_id)
        )
        assert parked == 0, "the result-ready event was left parked: the citizen would never be told"
        assert [(n["trigger"], n["channel"], n["status"]) for n in notices] == [
            ("dossier.received", "sms", "pending"),
            ("routing.route_completed", "sms", "pending"),
        ]
    finally:
        gate.set()
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await observer.close()
        await replica_a.engine.dispose()
        await replica_b.engine.dispose()
