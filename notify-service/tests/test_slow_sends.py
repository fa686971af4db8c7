"""Two notify dispatchers and a slow mail server, over the real PostgreSQL of the test stack.

The mail server on loopback takes 1.5 s to accept each message, and the lease of a claim is 2 s:
replica A claims a batch of four e-mails and sends them one after the other, which takes longer
than the lease it claimed them with. Replica B keeps dispatching meanwhile and claims the notices
whose lease ran out. Each citizen still gets their e-mail exactly once: the claim is renewed right
before each send, and a notice that was claimed again while it waited is left to the new claim.

The test has a database of its own: the notices it leaves must not reach another notify's dispatcher."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from aiosmtpd.controller import Controller

from conftest import free_port, own_database
from infra.stack import Stack
from notify.application.dispatching import dispatch_once
from notify.service import Notify, definition
from notify.settings import NotifySettings
from services.db import asyncpg_dsn
from services.events import Envelope
from services.events.schemas import ApplicantContact
from services.migrations import upgrade
from services.runtime import Runtime

from .conftest import consumer_records, received

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SEND_SECONDS = 1.5  # how long the mail server takes over each message
LEASE_SECONDS = 2  # covers one send, not four
CITIZENS = 4


@pytest.fixture(scope="module")
def database_url(stack: Stack, session_id: str) -> Iterator[str]:
    with own_database(stack, f"motcua_ns_{session_id}") as url:
        upgrade(Path(definition.migrations), url)
        yield url


class SlowMailbox:
    """Every message it is handed, counted by recipient; each takes SEND_SECONDS to accept."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(SEND_SECONDS)
        with self.lock:
            self.received.update(envelope.rcpt_tos)
        return "250 Message accepted"


@pytest.fixture
def slow_mailbox() -> Iterator[tuple[SlowMailbox, int]]:
    box = SlowMailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


def replica(database_url: str, issuer: str, tmp_path: Path, smtp_port: int) -> Runtime[NotifySettings, Notify]:
    settings = NotifySettings(
        service_name="notify",
        DATABASE_URL=database_url,
        OIDC_ISSUER=issuer,
        NOTIFY_SINK_PATH=str(tmp_path / "sink.jsonl"),
        NOTIFY_SMTP_HOST="127.0.0.1",
        NOTIFY_SMTP_PORT=smtp_port,
        NOTIFY_SMTP_SECURITY="none",
        NOTIFY_SMTP_TIMEOUT_SECONDS=5,
        NOTIFY_SENDING_LEASE_SECONDS=LEASE_SECONDS,
        NOTIFY_SEND_CONCURRENCY=1,
    )
    return Runtime(definition, settings)


def receipt(n: int) -> Envelope:
    return received(ApplicantContact(name="Trần Văn Bình", email=f"citizen{n}@example.vn", notify_channels=["email"]), seq=n)


async def test_a_batch_sent_slower_than_its_lease_reaches_each_citizen_once(
    database_url: str, stack: Stack, tmp_path: Path, slow_mailbox: tuple[SlowMailbox, int]
) -> None:
    box, port = slow_mailbox
    a, b = (replica(database_url, stack.profile.issuer, tmp_path, port) for _ in range(2))
    observer = await asyncpg.connect(asyncpg_dsn(database_url))
    receipts = [receipt(n) for n in range(1, CITIZENS + 1)]
    try:
        await a.consumers["notices"].apply([r for e in receipts for r in consumer_records(e)])
        dossiers = [UUID(e.dossier_id) for e in receipts]

        def dispatch(r: Runtime[NotifySettings, Notify], outlets: Any) -> Any:
            s = r.settings
            return dispatch_once(
                r.wiring.uow, outlets, batch=CITIZENS, lease_seconds=s.sending_lease_seconds, retries=r.wiring.retries
            )

        outlets_a, outlets_b = a.wiring.outlets(), b.wiring.outlets()
        try:
            replica_a = asyncio.create_task(dispatch(a, outlets_a))
            await asyncio.sleep(0.2)  # A has claimed the whole batch
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                await dispatch(b, outlets_b)  # B takes whatever is due, as a second replica's loop does
                statuses = await observer.fetch("SELECT status FROM notify.notices WHERE dossier_id = ANY($1::uuid[])", dossiers)
                if replica_a.done() and len(statuses) == CITIZENS and all(r["status"] == "sent" for r in statuses):
                    break
                await asyncio.sleep(0.2)
            assert await replica_a == CITIZENS
        finally:
            await outlets_a.close()
            await outlets_b.close()

        assert box.received == Counter({f"citizen{n}@example.vn": 1 for n in range(1, CITIZENS + 1)})
    finally:
        await observer.close()
        await a.engine.dispose()
        await b.engine.dispose()
