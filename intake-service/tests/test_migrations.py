"""Intake's migrations over a real PostgreSQL database of their own: what they do to rows written
before them."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from infra.stack import Stack
from services.migrations import upgrade

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


@pytest.fixture
def database_url(stack: Stack, session_id: str) -> Iterator[str]:
    name = f"motcua_im_{session_id}_{uuid.uuid4().hex[:6]}"
    stack.postgres.psql(f'CREATE DATABASE "{name}"')
    yield f"postgresql+asyncpg://motcua@127.0.0.1:{stack.profile.pg_port}/{name}"
    try:
        stack.postgres.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:
        pass


async def _sql(database_url: str, query: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


INSERT = """INSERT INTO intake.dossiers (id, code, procedure_code, procedure_name, catalogue_version, receiving_unit,
    channel, status, applicant, received_at, appointment_at, budget_hours)
    VALUES ($1, $2, '1.001193', 'Đăng ký khai sinh', '1', '000.00.00.H30', 1, 2, $3::jsonb, now(), now(), 8)"""


def test_dossiers_received_before_the_applicants_language_was_asked_for_are_told_in_vietnamese(database_url: str) -> None:
    upgrade(MIGRATIONS, database_url, "0005")
    before, chosen = uuid.uuid4(), uuid.uuid4()
    applicant = {"name": "Nguyễn Thị Lan", "phone": "0912345678", "notify_channels": ["sms"]}
    asyncio.run(_sql(database_url, INSERT, before, "000.00.00.H30-261123-0001", json.dumps(applicant)))
    asyncio.run(_sql(database_url, INSERT, chosen, "000.00.00.H30-261123-0002", json.dumps({**applicant, "language": "en"})))

    upgrade(MIGRATIONS, database_url)
    rows = asyncio.run(_sql(database_url, "SELECT id, applicant FROM intake.dossiers"))
    languages = {row["id"]: json.loads(row["applicant"])["language"] for row in rows}
    assert languages == {before: "vi", chosen: "en"}
    assert json.loads(next(r["applicant"] for r in rows if r["id"] == before))["phone"] == "0912345678"  # the rest kept
