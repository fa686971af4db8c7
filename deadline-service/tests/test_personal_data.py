"""Deadline and the citizen's personal data (Decree 13/2023), over a real PostgreSQL: deadline
keeps none, even from an older `dossier.received` that still carried the applicant's contact (a
raw read of every deadline table finds neither name nor phone), and it still answers each export
or erasure request, with no records, so intake hears from every service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from aiokafka import ConsumerRecord

from conftest import own_database
from deadline.service import Deadline, definition
from deadline.settings import DeadlineSettings
from infra.stack import Stack
from services.db import asyncpg_dsn
from services.events import Envelope, Event
from services.events.schemas import ApplicantContact, DossierReceived, PersonalDataRequested, RouteStep
from services.migrations import upgrade
from services.personal_data.requests import read_parts
from services.runtime import Runtime

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
NAME, PHONE, EMAIL = "Đỗ Thị Hạnh", "0987654321", "do.thi.hanh@example.vn"


@pytest.fixture(scope="module")
def deadline_url(stack: Stack, session_id: str, apply_env: dict[str, str]) -> Iterator[str]:
    with own_database(stack, f"motcua_dpd_{session_id}") as url:
        upgrade(Path(definition.migrations), url)
        yield url


@pytest.fixture
async def deadline(deadline_url: str, stack: Stack) -> Any:
    runtime = Runtime(
        definition, DeadlineSettings(service_name="deadline", DATABASE_URL=deadline_url, OIDC_ISSUER=stack.profile.issuer)
    )
    yield runtime
    await runtime.engine.dispose()


def envelope(dossier_id: str, event: Event) -> Envelope:
    return event.envelope(dossier_id=dossier_id, producer="intake").model_copy(update={"occurred_at": NOW})


def record(e: Envelope) -> ConsumerRecord[bytes, bytes]:
    value = e.to_bytes()
    return ConsumerRecord("test.intake", 0, 0, 0, 0, e.dossier_id.encode(), value, None, 0, len(value), [])


async def consume(runtime: Runtime[DeadlineSettings, Deadline], consumer: str, *envelopes: Envelope) -> None:
    await runtime.consumers[consumer].apply([record(e) for e in envelopes])


def received_the_old_way() -> DossierReceived:
    """`dossier.received` as intake published it before the name travelled alone: with the contact."""
    return DossierReceived(
        dossier_code=f"000.00.00.H30-261123-{uuid4().int % 10**4:04d}",
        procedure_code="1.001193",
        procedure_name="Đăng ký khai sinh",
        catalogue_version="1",
        receiving_unit="000.00.00.H30",
        channel=2,
        received_at=NOW,
        clock_starts_at=NOW,
        appointment_at=NOW + timedelta(days=1),
        budget_hours=8,
        route=[RouteStep(step_id="s1", agency_code="UBX", agency_name="UBND xã", budget_hours=8)],
        applicant=ApplicantContact(name=NAME, phone=PHONE, email=EMAIL, notify_channels=["sms", "email"]),
        lookup_secret="s3cr3t-l00kup",
    )


async def answered(db: asyncpg.Connection, request_id: str) -> list[dict[str, Any]]:
    rows = await db.fetch("SELECT message FROM deadline.outbox WHERE message->>'type' = 'personal_data.answered'")
    messages = [r["message"] if isinstance(r["message"], dict) else json.loads(r["message"]) for r in rows]
    return [m["payload"] for m in messages if m["payload"]["request_id"] == request_id]


async def test_deadline_keeps_no_personal_data_and_answers_every_request_with_none(deadline: Any, deadline_url: str) -> None:
    dossier_id = str(uuid4())
    await consume(deadline, "tracker", envelope(dossier_id, received_the_old_way()))
    db = await asyncpg.connect(asyncpg_dsn(deadline_url))
    try:
        assert await db.fetchval("SELECT count(*) FROM deadline.dossiers WHERE dossier_id = $1::uuid", dossier_id) == 1
        tables = await db.fetch("SELECT table_name FROM information_schema.tables WHERE table_schema = 'deadline'")
        for table in (r["table_name"] for r in tables):
            dump = await db.fetchval(f"SELECT coalesce(string_agg(t::text, ' '), '') FROM deadline.\"{table}\" t")
            for value in (NAME, PHONE, EMAIL, "s3cr3t-l00kup"):
                assert value not in dump, f"{value} kept in deadline.{table}"

        for kind in ("export", "erasure"):
            request = PersonalDataRequested(request_id=f"r-{uuid4().hex[:8]}", kind=kind, requested_at=NOW)  # type: ignore[arg-type]
            await consume(deadline, "personal-data", envelope(dossier_id, request))
            # The same request for the same dossier again (intake sent it twice): answered once.
            await consume(deadline, "personal-data", envelope(dossier_id, request))
            answers = await answered(db, request.request_id)
            assert [(a["kind"], a["service"], a["records"]) for a in answers] == [(kind, "deadline", 0)]
            async with deadline.sessionmaker() as session:
                parts = await read_parts(session, schema="deadline", keys=deadline.keys, request_id=request.request_id)
            assert [(p.dossier_id, p.records, p.held) for p in parts] == [(dossier_id, 0, {})]
        audit = await db.fetch(
            "SELECT action FROM deadline.audit_trail WHERE dossier_id = $1 AND action LIKE 'personal_data:%'", dossier_id
        )
        assert sorted(r["action"] for r in audit) == ["personal_data:erasure", "personal_data:export"]
    finally:
        await db.close()
