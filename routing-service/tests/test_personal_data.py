"""The applicant's name in routing (Decree 13/2023), over a real PostgreSQL: sealed at rest (a raw
SELECT finds no name, not in the dossier, not in the queued portal pushes), still sent to the
national portal as ChuHoSo, erased by the retention job only once the dossier ended long enough
ago, exported and erased on a citizen's request (answered with counts), and still opened after the
key ring rotated, before and after the background re-sealing. The migration seals names already
stored in clear."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import ConsumerRecord
from alembic import command

from conftest import own_database
from infra.stack import Stack
from routing.application.exchange import RetryPolicy, push_due, without_name
from routing.domain.exchange import CircuitBreaker
from routing.service import Routing, definition
from routing.settings import RoutingSettings
from services.db import asyncpg_dsn
from services.events import Envelope, Event
from services.events.schemas import (
    ApplicantContact,
    DossierReceived,
    DossierWithdrawn,
    PersonalDataRequested,
    ResultReturned,
    RouteStep,
)
from services.migrations import alembic_config, upgrade
from services.personal_data.keys import KeyRing
from services.personal_data.requests import read_parts
from services.personal_data.rings import KEYRINGS_FILE, rotate
from services.personal_data.rotation import reseal_round
from services.runtime import Runtime

LAN = "Nguyễn Thị Lan"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=3, backoff_base_seconds=0.1, backoff_cap_seconds=1, lease_seconds=30, breaker_reset_seconds=1)
COMMUNE = RouteStep(step_id="civil-status", agency_code="UBND-XA", agency_name="UBND xã (hộ tịch)", budget_hours=8)
MIGRATIONS = Path(definition.migrations)


@pytest.fixture(scope="module")
def routing_url(stack: Stack, session_id: str, apply_env: dict[str, str]) -> Iterator[str]:
    with own_database(stack, f"motcua_rpd_{session_id}") as url:
        upgrade(MIGRATIONS, url)
        yield url


def process(routing_url: str, issuer: str) -> Runtime[RoutingSettings, Routing]:
    settings = RoutingSettings(
        service_name="routing", DATABASE_URL=routing_url, OIDC_ISSUER=issuer, NATIONAL_PORTAL_URL="http://portal.invalid"
    )
    return Runtime(definition, settings)


class Portal:
    """The national portal's DongBoHoSoMC, as routing's sync worker calls it."""

    push_url = "http://portal.invalid/DongBoHoSoMC"

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    async def push(self, key: str, record: Mapping[str, Any]) -> None:
        self.records.append(dict(record))

    async def status_of(self, dossier_code: str) -> int | None:
        return None


def received(*, name: str | None = LAN, old_style: bool = False) -> Envelope:
    event = DossierReceived(
        dossier_code=f"000.00.00.H30-261123-{uuid4().int % 10**4:04d}",
        procedure_code="1.001193",
        procedure_name="Đăng ký khai sinh",
        field_code="HT",
        catalogue_version="2026.1",
        receiving_unit="000.00.00.H30",
        channel=1,
        received_at=NOW,
        clock_starts_at=NOW,
        appointment_at=NOW + timedelta(days=3),
        budget_hours=8,
        route=[COMMUNE],
        # Events from before the name travelled alone carried the whole contact.
        applicant=ApplicantContact(name=name or "", phone="0912345678", notify_channels=["sms"]) if old_style else None,
        applicant_name=None if old_style else name,
    )
    return event.envelope(dossier_id=str(uuid4()), producer="intake").model_copy(update={"occurred_at": NOW})


def follow(dossier_id: str, event: Event, at: datetime = NOW) -> Envelope:
    return event.envelope(dossier_id=dossier_id, producer="intake").model_copy(update={"occurred_at": at})


def record(envelope: Envelope) -> ConsumerRecord[bytes, bytes]:
    value = envelope.to_bytes()
    return ConsumerRecord("test.intake", 0, 0, 0, 0, envelope.dossier_id.encode(), value, None, 0, len(value), [])


async def consume(runtime: Runtime[RoutingSettings, Routing], *envelopes: Envelope, consumer: str = "routes") -> None:
    await runtime.consumers[consumer].apply([record(e) for e in envelopes])


async def sync_portal(runtime: Runtime[RoutingSettings, Routing]) -> list[dict[str, Any]]:
    portal = Portal()
    await push_due(runtime.wiring.uow, portal, CircuitBreaker(threshold=3, reset_after=1), POLICY)
    return portal.records


async def stored_name(db: asyncpg.Connection, dossier_id: str) -> str | None:
    return await db.fetchval("SELECT applicant_name FROM routing.dossiers WHERE dossier_id = $1", UUID(dossier_id))


@pytest.fixture
async def db(routing_url: str) -> Any:
    conn = await asyncpg.connect(asyncpg_dsn(routing_url))
    yield conn
    await conn.close()


@pytest.fixture
async def routing(routing_url: str, stack: Stack) -> Any:
    runtime = process(routing_url, stack.profile.issuer)
    yield runtime
    await runtime.engine.dispose()


async def test_the_name_is_sealed_in_the_table_and_the_portal_still_gets_it(routing: Any, db: asyncpg.Connection) -> None:
    new, old = received(), received(name="Trần Văn Bình", old_style=True)
    await consume(routing, new, old)

    for envelope, name in ((new, LAN), (old, "Trần Văn Bình")):
        raw = await stored_name(db, envelope.dossier_id)
        assert raw is not None and KeyRing.is_sealed(raw) and name not in raw
        pushes = await db.fetch(
            "SELECT payload::text AS p FROM routing.portal_pushes WHERE dossier_id = $1", UUID(envelope.dossier_id)
        )
        assert pushes and all(name not in r["p"] and "ChuHoSo" not in r["p"] for r in pushes)
    dump = await db.fetchval("SELECT string_agg(t::text, ' ') FROM routing.dossiers t")
    assert LAN not in dump

    sent = {r["MaHoSo"]: r["ChuHoSo"] for r in await sync_portal(routing)}
    assert sent[DossierReceived.model_validate(new.payload).dossier_code] == LAN
    assert sent[DossierReceived.model_validate(old.payload).dossier_code] == "Trần Văn Bình"


def test_a_portal_failure_kept_in_the_audit_log_does_not_repeat_the_name() -> None:
    error = f'HTTP 400: {{"message": "ChuHoSo {LAN} không hợp lệ", "SoDienThoai": "0912345678"}}'
    kept = without_name(error, LAN)
    assert LAN not in kept and "0912345678" not in kept and "HTTP 400" in kept


async def test_retention_erases_the_names_of_dossiers_that_ended_long_enough_ago_and_nothing_else(
    routing: Any, db: asyncpg.Connection
) -> None:
    long_ago, recently, still_open, delivered = received(), received(), received(), received()
    await consume(routing, long_ago, recently, still_open, delivered)
    await consume(routing, *(follow(e.dossier_id, DossierWithdrawn(withdrawn_at=NOW)) for e in (long_ago, recently)))
    await consume(routing, follow(delivered.dossier_id, ResultReturned(returned_at=NOW, method="counter")))
    now = datetime.now(UTC)
    ended = [(long_ago, 200), (recently, 100), (delivered, 184)]  # days since the dossier ended
    for envelope, days in ended:
        at = now - timedelta(days=days)
        await db.execute("UPDATE routing.dossiers SET updated_at = $2 WHERE dossier_id = $1", UUID(envelope.dossier_id), at)
    # Open for a year, never ended: its name is still needed.
    await db.execute(
        "UPDATE routing.dossiers SET updated_at = $2 WHERE dossier_id = $1",
        UUID(still_open.dossier_id),
        now - timedelta(days=365),
    )

    done = await routing.enforce_retention(now)

    assert done["applicant_name"] >= 2
    assert await stored_name(db, long_ago.dossier_id) is None
    assert await stored_name(db, delivered.dossier_id) is None
    assert KeyRing.is_sealed(await stored_name(db, recently.dossier_id))
    assert KeyRing.is_sealed(await stored_name(db, still_open.dossier_id))
    audited = await db.fetch(
        "SELECT dossier_id, detail FROM routing.audit_trail WHERE action = 'retention:erased' AND dossier_id = ANY($1::text[])",
        [long_ago.dossier_id, delivered.dossier_id, recently.dossier_id],
    )
    assert sorted(r["dossier_id"] for r in audited) == sorted([long_ago.dossier_id, delivered.dossier_id])
    assert all(json.loads(r["detail"])["data_class"] == "applicant_name" for r in audited)


async def answers(db: asyncpg.Connection, request_id: str) -> list[dict[str, Any]]:
    rows = await db.fetch("SELECT message FROM routing.outbox WHERE message->>'type' = 'personal_data.answered'")
    payloads = [json.loads(r["message"])["payload"] if isinstance(r["message"], str) else r["message"]["payload"] for r in rows]
    return [p for p in payloads if p["request_id"] == request_id]


async def test_a_citizens_export_lists_the_name_and_an_erasure_blanks_it(routing: Any, db: asyncpg.Connection) -> None:
    envelope = received()
    await consume(routing, envelope)
    await sync_portal(routing)

    export = PersonalDataRequested(request_id=f"r-{uuid4().hex[:8]}", kind="export", requested_at=NOW)
    await consume(routing, follow(envelope.dossier_id, export), consumer="personal-data")
    async with routing.sessionmaker() as session:
        parts = await read_parts(session, schema="routing", keys=routing.keys, request_id=export.request_id)
    assert [p.held["applicant_name"][0]["applicant_name"] for p in parts] == [LAN]
    assert LAN not in await db.fetchval("SELECT part FROM routing.personal_data_parts WHERE request_id = $1", export.request_id)
    assert [(a["kind"], a["service"], a["records"]) for a in await answers(db, export.request_id)] == [("export", "routing", 1)]

    erasure = PersonalDataRequested(request_id=f"r-{uuid4().hex[:8]}", kind="erasure", requested_at=NOW)
    await consume(routing, follow(envelope.dossier_id, erasure), consumer="personal-data")
    assert await stored_name(db, envelope.dossier_id) is None
    assert [(a["kind"], a["records"]) for a in await answers(db, erasure.request_id)] == [("erasure", 1)]
    # A later portal update no longer names the applicant.
    await consume(routing, follow(envelope.dossier_id, DossierWithdrawn(withdrawn_at=NOW)))
    code = DossierReceived.model_validate(envelope.payload).dossier_code
    assert [r["ChuHoSo"] for r in await sync_portal(routing) if r["MaHoSo"] == code] == [""]

    again = PersonalDataRequested(request_id=f"r-{uuid4().hex[:8]}", kind="export", requested_at=NOW)
    await consume(routing, follow(envelope.dossier_id, again), consumer="personal-data")
    assert [a["records"] for a in await answers(db, again.request_id)] == [0]


async def test_after_a_key_rotation_old_and_new_names_open_and_the_old_are_sealed_again(
    stack: Stack, session_id: str, apply_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with own_database(stack, f"motcua_rrot_{session_id}") as url:
        await asyncio.to_thread(upgrade, MIGRATIONS, url)
        db = await asyncpg.connect(asyncpg_dsn(url))
        before = process(url, stack.profile.issuer)
        old = received(name="Lê Văn Cũ")
        await consume(before, old)
        await before.engine.dispose()

        rings = tmp_path / "rings.json"
        shutil.copy(apply_env[KEYRINGS_FILE], rings)
        new_key = rotate(rings, "routing")
        monkeypatch.setenv(KEYRINGS_FILE, str(rings))
        after = process(url, stack.profile.issuer)
        try:
            assert after.keys.active == new_key
            new = received(name="Phạm Thị Mới")
            await consume(after, new)
            assert KeyRing.key_id(await stored_name(db, new.dossier_id)) == new_key
            assert KeyRing.key_id(await stored_name(db, old.dossier_id)) != new_key

            names = {r["ChuHoSo"] for r in await sync_portal(after)}
            assert names == {"Lê Văn Cũ", "Phạm Thị Mới"}

            while await reseal_round(after.sessionmaker, after.keys, after.sealed_columns):
                pass
            assert {
                KeyRing.key_id(r["applicant_name"]) for r in await db.fetch("SELECT applicant_name FROM routing.dossiers")
            } == {new_key}
            async with after.wiring.uow() as work:
                assert (await work.routes.lock(UUID(old.dossier_id)))["applicant_name"] == "Lê Văn Cũ"
                assert (await work.routes.lock(UUID(new.dossier_id)))["applicant_name"] == "Phạm Thị Mới"
        finally:
            await after.engine.dispose()
            await db.close()


async def test_the_migration_seals_names_stored_in_clear_and_its_downgrade_opens_them(
    stack: Stack, session_id: str, apply_env: dict[str, str]
) -> None:
    with own_database(stack, f"motcua_rmig_{session_id}") as url:
        await asyncio.to_thread(upgrade, MIGRATIONS, url, "0006")
        db = await asyncpg.connect(asyncpg_dsn(url))
        try:
            dossier_id = uuid4()
            await db.execute(
                "INSERT INTO routing.dossiers (dossier_id, dossier_code, procedure_code, procedure_name, channel, applicant_name, "
                "received_at, appointment_at, phase, correlation_id, updated_at) "
                "VALUES ($1, 'X-1', '1.001193', 'Đăng ký khai sinh', 1, $2, now(), now(), 'received', $1, now())",
                dossier_id,
                LAN,
            )
            payload = json.dumps({"MaHoSo": "X-1", "ChuHoSo": LAN, "TrangThaiHoSo": 2}, ensure_ascii=False)
            await db.execute(
                "INSERT INTO routing.portal_pushes (dossier_id, status_code, payload) VALUES ($1, 2, $2::jsonb)",
                dossier_id,
                payload,
            )

            await asyncio.to_thread(upgrade, MIGRATIONS, url)
            sealed = await stored_name(db, str(dossier_id))
            assert KeyRing.is_sealed(sealed) and LAN not in sealed
            assert LAN not in await db.fetchval(
                "SELECT payload::text FROM routing.portal_pushes WHERE dossier_id = $1", dossier_id
            )

            await asyncio.to_thread(command.downgrade, alembic_config(MIGRATIONS, url), "0006")
            assert await stored_name(db, str(dossier_id)) == LAN
            restored = await db.fetchval("SELECT payload::text FROM routing.portal_pushes WHERE dossier_id = $1", dossier_id)
            assert json.loads(restored)["ChuHoSo"] == LAN
        finally:
            await db.close()
