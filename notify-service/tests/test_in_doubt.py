"""A notice sent, and then its process killed before it recorded the outcome: the notice is still
`sending` in the real PostgreSQL of the test stack, and the channel has it. When its lease has run
out, the next dispatch asks the channel before sending it again, and records it as sent without a
second delivery: the console sink's file (which records every delivery it is handed) and the SMS
gateway on loopback (asked through its status URL) each have it once.

The test has a database of its own: the notices it leaves must not reach another notify's dispatcher."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from conftest import own_database
from infra.stack import Stack
from notify.application import dispatching
from notify.application.dispatching import dispatch_once
from notify.service import Notify, definition
from notify.settings import NotifySettings
from services.db import asyncpg_dsn
from services.events import Envelope
from services.events.schemas import ApplicantContact
from services.migrations import upgrade
from services.runtime import Runtime

from .conftest import GATEWAY_PASSWORD, GATEWAY_USER, LoopbackGateway, consumer_records, received

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def database_url(stack: Stack, session_id: str) -> Iterator[str]:
    with own_database(stack, f"motcua_nd_{session_id}") as url:
        upgrade(Path(definition.migrations), url)
        yield url


class Killed(Exception):
    """The process died: nothing after this point ran."""


def process(database_url: str, issuer: str, sink: Path, **env: Any) -> Runtime[NotifySettings, Notify]:
    settings = NotifySettings(
        service_name="notify",
        DATABASE_URL=database_url,
        OIDC_ISSUER=issuer,
        NOTIFY_SINK_PATH=str(sink),
        NOTIFY_QUIET_HOURS="",
        **env,
    )
    return Runtime(definition, settings)


def receipt(phone: str, email: str) -> Envelope:
    return received(ApplicantContact(name="Trần Văn Bình", phone=phone, email=email, notify_channels=["sms", "email"]))


async def dispatch(runtime: Runtime[NotifySettings, Notify]) -> int:
    outlets = runtime.wiring.outlets()
    try:
        s = runtime.settings
        return await dispatch_once(
            runtime.wiring.uow, outlets, batch=10, lease_seconds=s.sending_lease_seconds, retries=runtime.wiring.retries
        )
    finally:
        await outlets.close()


@pytest.mark.parametrize("sms_by", ["sink", "gateway"])
async def test_a_notice_sent_before_a_crash_is_recorded_as_sent_after_it_without_a_second_delivery(
    database_url: str, stack: Stack, tmp_path: Path, gateway: LoopbackGateway, monkeypatch: pytest.MonkeyPatch, sms_by: str
) -> None:
    sink = tmp_path / "sink.jsonl"
    via_gateway = {
        "NOTIFY_SMS_GATEWAY_URL": gateway.url,
        "NOTIFY_SMS_STATUS_URL": gateway.status_url,
        "NOTIFY_SMS_USERNAME": GATEWAY_USER,
        "NOTIFY_SMS_PASSWORD": GATEWAY_PASSWORD,
    }
    env = via_gateway if sms_by == "gateway" else {}
    phone = f"0916{uuid4().int % 10**6:06d}"
    envelope = receipt(phone, f"binh.{phone}@example.vn")
    dossier_id = UUID(envelope.dossier_id)
    observer = await asyncpg.connect(asyncpg_dsn(database_url))
    first, after = (
        process(database_url, stack.profile.issuer, sink, **env),
        process(database_url, stack.profile.issuer, sink, **env),
    )
    try:
        await first.consumers["notices"].apply(consumer_records(envelope))

        async def die(*args: Any) -> None:
            raise Killed

        # The SMS goes out, then the process dies before it records the outcome; the e-mail, the
        # dossier's next notice, is claimed with it but never handed over.
        with monkeypatch.context() as patch:
            patch.setattr(dispatching, "record_outcome", die)
            with pytest.raises(Killed):
                await dispatch(first)
        rows = await observer.fetch("SELECT id, channel, status FROM notify.notices WHERE dossier_id = $1", dossier_id)
        assert sorted((r["channel"], r["status"]) for r in rows) == [("email", "sending"), ("sms", "sending")]
        ids = {r["channel"]: str(r["id"]) for r in rows}
        # Their lease runs out.
        await observer.execute(
            "UPDATE notify.notices SET next_attempt_at = now() - interval '1 second' WHERE dossier_id = $1", dossier_id
        )

        assert await dispatch(after) == 2

        rows = await observer.fetch("SELECT channel, status, attempts FROM notify.notices WHERE dossier_id = $1", dossier_id)
        assert sorted(tuple(r) for r in rows) == [("email", "sent", 2), ("sms", "sent", 2)]
        announced = await observer.fetch(
            "SELECT message->'payload'->>'channel' AS channel FROM notify.outbox "
            "WHERE message->>'type' = 'notify.notice_sent' AND message->>'dossier_id' = $1",
            str(dossier_id),
        )
        assert sorted(r["channel"] for r in announced) == ["email", "sms"]
        lines = [json.loads(line) for line in sink.read_text(encoding="utf-8").splitlines()]
        in_sink = Counter((line["notice_id"], line["trigger"], line["channel"]) for line in lines)
        if sms_by == "sink":
            assert in_sink == {(ids["sms"], "dossier.received", "sms"): 1, (ids["email"], "dossier.received", "email"): 1}
        else:
            assert in_sink == {(ids["email"], "dossier.received", "email"): 1}
            assert [r["body"]["request_id"] for r in gateway.sent_to(phone)] == [ids["sms"]]  # asked, not sent again
            assert ids["sms"] in gateway.status_queries
    finally:
        await observer.close()
        await first.engine.dispose()
        await after.engine.dispose()
