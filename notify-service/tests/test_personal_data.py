"""Personal data in notify's tables (Decree 13/2023), over the test stack's PostgreSQL: what a raw
SELECT finds after a citizen was told (no phone, e-mail or name in clear), what the retention job
erases (only what is due), a citizen's export and erasure, a new key (old and new values open, and
the background re-sealing moves every value to it), and the migration that seals what was kept in
clear before. In-process runtimes on a database of their own; the dispatcher sends to the console sink."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from alembic import command

from conftest import own_database
from infra.stack import PROFILES, Stack
from notify.application.dispatching import dispatch_once
from notify.service import Notify, definition
from notify.settings import NotifySettings
from services.db import asyncpg_dsn
from services.events import Envelope
from services.events.schemas import ApplicantContact, DossierWithdrawn, PersonalDataRequested, RouteCompleted
from services.identity import EVERYTHING
from services.migrations import alembic_config, upgrade
from services.personal_data.keys import KeyRing
from services.personal_data.requests import read_parts
from services.personal_data.rings import KEYRINGS_FILE, rotate
from services.personal_data.rotation import reseal_round
from services.runtime import Runtime

from .conftest import consumer_record, consumer_records, received

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
NAME, EMAIL = "Trần Văn Bình", "binh.pd@example.vn"


@pytest.fixture(scope="module")
def database_url(stack: Stack, session_id: str) -> Iterator[str]:
    with own_database(stack, f"motcua_npd_{session_id}") as url:
        upgrade(Path(definition.migrations), url)
        yield url


def runtime(database_url: str, issuer: str, tmp_path: Path) -> Runtime[NotifySettings, Notify]:
    settings = NotifySettings(
        service_name="notify",
        DATABASE_URL=database_url,
        OIDC_ISSUER=issuer,
        NOTIFY_SINK_PATH=str(tmp_path / "sink.jsonl"),
        NOTIFY_QUIET_HOURS="",
    )
    return Runtime(definition, settings)


def phone_number() -> str:
    return f"0916{uuid4().int % 10**6:06d}"


def receipt(phone: str, email: str = EMAIL) -> Envelope:
    return received(ApplicantContact(name=NAME, phone=phone, email=email, notify_channels=["sms", "email"]))


async def told(notify: Runtime[NotifySettings, Notify], phone: str, email: str = EMAIL) -> str:
    """A dossier received, its contact given, and its receipt notices sent: the dossier id."""
    envelope = receipt(phone, email)
    await notify.consumers["notices"].apply(consumer_records(envelope))
    outlets = notify.wiring.outlets()
    try:
        while await dispatch_once(notify.wiring.uow, outlets, batch=20, lease_seconds=30, retries=notify.wiring.retries):
            pass
    finally:
        await outlets.close()
    return envelope.dossier_id


async def rows(observer: asyncpg.Connection, dossier_id: str) -> list[dict[str, Any]]:
    """Every row notify keeps about the dossier, as a raw SELECT reads them."""
    found = []
    for table in ("contacts", "notices", "parked_events"):
        found += [dict(r) for r in await observer.fetch(f"SELECT * FROM notify.{table} WHERE dossier_id = $1", UUID(dossier_id))]
    return found


async def test_after_a_delivery_no_row_holds_the_phone_email_or_name_in_clear(
    database_url: str, stack: Stack, tmp_path: Path
) -> None:
    notify = runtime(database_url, stack.profile.issuer, tmp_path)
    observer = await asyncpg.connect(asyncpg_dsn(database_url))
    phone = phone_number()
    try:
        dossier_id = await told(notify, phone)
        kept = await rows(observer, dossier_id)
        assert len(kept) == 3  # the contact, the SMS and the e-mail
        text = repr(kept)
        for value in (phone, phone[1:], EMAIL, NAME, "Tran Van Binh"):
            assert value not in text
        assert "pd1." in text
        async with notify.wiring.uow() as work:  # what the service reads opens
            log = await work.notices.of_dossier(UUID(dossier_id), EVERYTHING)
        assert log is not None and {n["status"] for n in log} == {"sent"}
        assert {n["recipient"] for n in log} == {phone, EMAIL}
        assert {n["recipient_masked"] for n in log} == {f"{phone[:3]}****{phone[-3:]}", "b***@example.vn"}
    finally:
        await observer.close()
        await notify.engine.dispose()


@pytest.mark.parametrize("first", ["contact", "receipt"])
async def test_the_contact_and_the_receipt_in_either_order_give_one_receipt_notice_per_channel(
    database_url: str, stack: Stack, tmp_path: Path, first: str
) -> None:
    notify = runtime(database_url, stack.profile.issuer, tmp_path)
    observer = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        given, receipt_ = consumer_records(receipt(phone_number()))
        dossier_id = UUID(given.key.decode())
        result_ready = consumer_record(RouteCompleted(completed_at=NOW).envelope(dossier_id=str(dossier_id), producer="routing"))
        order = [given, result_ready, receipt_] if first == "contact" else [receipt_, result_ready, given]
        for record in order:  # each in its own transaction, as read off different topics
            await notify.consumers["notices"].apply([record])
        await notify.consumers["notices"].apply([given])  # redelivered: nothing more
        notices = await observer.fetch(
            "SELECT trigger, channel FROM notify.notices WHERE dossier_id = $1 ORDER BY created_at, channel", dossier_id
        )
        assert sorted(tuple(n) for n in notices) == [
            ("dossier.received", "email"),
            ("dossier.received", "sms"),
            ("routing.route_completed", "email"),
            ("routing.route_completed", "sms"),
        ]
        assert await observer.fetchval("SELECT count(*) FROM notify.parked_events WHERE dossier_id = $1", dossier_id) == 0
        assert await observer.fetchval("SELECT lookup_secret FROM notify.contacts WHERE dossier_id = $1", dossier_id) is None
    finally:
        await observer.close()
        await notify.engine.dispose()


async def test_retention_erases_the_texts_and_contacts_that_are_due_and_nothing_else(
    database_url: str, stack: Stack, tmp_path: Path
) -> None:
    notify = runtime(database_url, stack.profile.issuer, tmp_path)
    observer = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        old, recent = await told(notify, phone_number()), await told(notify, phone_number())
        ended_recently = await told(notify, phone_number())
        pending = receipt(phone_number())
        await notify.consumers["notices"].apply(consumer_records(pending))  # never sent
        for dossier_id in (old, ended_recently):
            withdrawn = DossierWithdrawn(withdrawn_at=NOW).envelope(dossier_id=dossier_id, producer="intake")
            await notify.consumers["notices"].apply([consumer_record(withdrawn)])
        long_ago = datetime.now(UTC) - timedelta(days=200)
        await observer.execute(
            "UPDATE notify.notices SET sent_at = $2, created_at = $2 WHERE dossier_id = ANY($1::uuid[])",
            [old, pending.dossier_id],
            long_ago,
        )
        await observer.execute("UPDATE notify.contacts SET ended_at = $2 WHERE dossier_id = $1", UUID(old), long_ago)
        await observer.execute(
            "UPDATE notify.contacts SET ended_at = $2 WHERE dossier_id = $1", UUID(ended_recently), datetime.now(UTC)
        )
        stale = RouteCompleted(completed_at=NOW).envelope(dossier_id=str(uuid4()), producer="routing")
        await notify.consumers["notices"].apply([consumer_record(stale)])  # parked: no receipt will come
        await observer.execute(
            "UPDATE notify.parked_events SET parked_at = $1 WHERE dossier_id = $2", long_ago, UUID(stale.dossier_id)
        )

        erased = await notify.enforce_retention()
        assert erased == {"dead_letter_payloads": 0, "notice_texts": 2, "contacts": 1, "parked_events": 1}

        def texts(kept: list[dict[str, Any]]) -> list[tuple[str, str]]:
            return [(r["recipient"], r["body"]) for r in kept if "body" in r]

        old_rows, recent_rows, pending_rows = [await rows(observer, d) for d in (old, recent, pending.dossier_id)]
        assert texts(old_rows) == [("", ""), ("", "")] and all(r["erased_at"] for r in old_rows)
        assert all(r["recipient_masked"] and r["status"] == "sent" for r in old_rows if "body" in r)  # the log stays
        [contact] = [r for r in old_rows if "body" not in r]
        assert (contact["name"], contact["phone"], contact["email"]) == (None, None, None)
        assert all(b.startswith("pd1.") for _, b in texts(recent_rows) + texts(pending_rows))
        [recent_contact] = [r for r in await rows(observer, ended_recently) if "body" not in r]
        assert recent_contact["name"].startswith("pd1.") and recent_contact["erased_at"] is None
        audit = await observer.fetchval(
            "SELECT count(*) FROM notify.audit_trail WHERE action = 'retention:erased' AND dossier_id = $1", old
        )
        assert audit == 2  # its notice texts, and its contact
    finally:
        await observer.close()
        await notify.engine.dispose()


async def test_a_citizens_export_lists_the_contact_and_notices_and_the_erasure_leaves_nothing(
    database_url: str, stack: Stack, tmp_path: Path
) -> None:
    notify = runtime(database_url, stack.profile.issuer, tmp_path)
    observer = await asyncpg.connect(asyncpg_dsn(database_url))
    phone = phone_number()
    try:
        dossier_id = await told(notify, phone)

        def asked(kind: str) -> Any:
            event = PersonalDataRequested(request_id=f"{kind}-{dossier_id}", kind=kind, requested_at=NOW)
            return consumer_record(event.envelope(dossier_id=dossier_id, producer="intake"))

        await notify.consumers["personal-data"].apply([asked("export")])
        async with notify.sessionmaker() as session:
            [part] = await read_parts(session, schema="notify", keys=notify.keys, request_id=f"export-{dossier_id}")
        assert part.records == 3
        [contact] = part.held["contacts"]
        assert (contact["name"], contact["phone"], contact["email"]) == (NAME, phone, EMAIL)
        assert sorted((n["channel"], n["recipient"], n["status"]) for n in part.held["notices"]) == [
            ("email", EMAIL, "sent"),
            ("sms", phone, "sent"),
        ]
        assert all(n["body"] and n["sent_at"] for n in part.held["notices"])
        stored = await observer.fetchval(
            "SELECT part FROM notify.personal_data_parts WHERE request_id = $1", f"export-{dossier_id}"
        )
        assert phone not in stored and stored.startswith("pd1.")

        await notify.consumers["personal-data"].apply([asked("erasure")])
        erased = await observer.fetchval(
            "SELECT records FROM notify.personal_data_parts WHERE request_id = $1", f"erasure-{dossier_id}"
        )
        assert erased == 3
        for row in await rows(observer, dossier_id):
            personal = {k: row.get(k) for k in ("name", "phone", "email", "lookup_secret", "recipient", "body", "subject")}
            personal |= {k: row.get(k) for k in ("html_body", "attachment")}
            assert not any(personal.values()), row
        async with notify.sessionmaker() as session, session.begin():
            held = await notify.wiring.holder.export(session, dossier_id)
        assert "contacts" not in held  # what is left is the delivery log: statuses and times, no one to reach
        assert all(n["recipient"] == "" and n["body"] == "" and n["erased_at"] for n in held["notices"])
        assert phone not in repr(held) and NAME not in repr(held)
    finally:
        await observer.close()
        await notify.engine.dispose()


async def test_after_a_new_key_old_and_new_values_open_and_resealing_moves_them_all_to_it(
    database_url: str, stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rings = tmp_path / "keys.json"
    shutil.copy(PROFILES["test"].keyrings_file, rings)
    monkeypatch.setenv(KEYRINGS_FILE, str(rings))
    before = runtime(database_url, stack.profile.issuer, tmp_path)
    observer = await asyncpg.connect(asyncpg_dsn(database_url))
    old_phone, new_phone = phone_number(), phone_number()
    try:
        old = await told(before, old_phone)
        new_key = rotate(rings, "notify")
        after = runtime(database_url, stack.profile.issuer, tmp_path)
        try:
            assert after.keys.active == new_key and before.keys.active != new_key
            new = await told(after, new_phone)
            async with after.wiring.uow() as work:
                for dossier_id, phone in ((old, old_phone), (new, new_phone)):
                    log = await work.notices.of_dossier(UUID(dossier_id), EVERYTHING)
                    assert log is not None and phone in {n["recipient"] for n in log}
            while await reseal_round(after.sessionmaker, after.keys, after.sealed_columns):
                pass
            for dossier_id in (old, new):
                for row in await rows(observer, dossier_id):
                    for column in ("name", "phone", "email", "recipient", "body", "html_body", "attachment"):
                        if row.get(column):
                            assert KeyRing.key_id(row[column]) == new_key, (column, row[column][:12])
            async with after.wiring.uow() as work:
                log = await work.notices.of_dossier(UUID(old), EVERYTHING)
                assert log is not None and old_phone in {n["recipient"] for n in log}
        finally:
            await after.engine.dispose()
    finally:
        await observer.close()
        await before.engine.dispose()


def test_the_migration_seals_what_was_kept_in_clear_and_its_downgrade_opens_it(stack: Stack, session_id: str) -> None:
    migrations = Path(definition.migrations)
    with own_database(stack, f"motcua_npm_{session_id}") as url:
        upgrade(migrations, url, "0006")
        dossier_id, notice_id, phone = uuid4(), uuid4(), phone_number()

        async def run(sql: str, *args: Any) -> list[asyncpg.Record]:
            conn = await asyncpg.connect(asyncpg_dsn(url))
            try:
                return await conn.fetch(sql, *args)
            finally:
                await conn.close()

        asyncio.run(
            run(
                "INSERT INTO notify.contacts (dossier_id, dossier_code, procedure_name, name, phone, email, channels, language, "
                "opt_out_non_essential) VALUES ($1, 'C-1', 'Khai sinh', $2, $3, $4, '[\"sms\"]', 'vi', false)",
                dossier_id,
                NAME,
                phone,
                EMAIL,
            )
        )
        asyncio.run(
            run(
                "INSERT INTO notify.notices (id, dossier_id, trigger, trigger_event_id, channel, recipient, recipient_masked, "
                "body, status) VALUES ($1, $2, 'dossier.received', $3, 'sms', $4, 'x', $5, 'sent')",
                notice_id,
                dossier_id,
                uuid4(),
                phone,
                f"Kinh gui {NAME}",
            )
        )
        upgrade(migrations, url)
        [contact] = asyncio.run(run("SELECT name, phone, email FROM notify.contacts"))
        [notice] = asyncio.run(run("SELECT recipient, body, recipient_key FROM notify.notices"))
        assert all(KeyRing.is_sealed(v) for v in (*contact.values(), notice["recipient"], notice["body"]))
        assert phone not in repr(contact) + repr(notice) and notice["recipient_key"]
        command.downgrade(alembic_config(migrations, url), "0006")
        [contact] = asyncio.run(run("SELECT name, phone, email FROM notify.contacts"))
        [notice] = asyncio.run(run("SELECT recipient, body FROM notify.notices"))
        assert tuple(contact.values()) == (NAME, phone, EMAIL) and tuple(notice.values()) == (phone, f"Kinh gui {NAME}")
