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
from alembic import command

from infra.stack import Stack
from services.migrations import alembic_config, upgrade
from services.personal_data.rings import service_ring

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

    upgrade(MIGRATIONS, database_url, "0007")  # the applicant is sealed from 0008 on
    rows = asyncio.run(_sql(database_url, "SELECT id, applicant FROM intake.dossiers"))
    languages = {row["id"]: json.loads(row["applicant"])["language"] for row in rows}
    assert languages == {before: "vi", chosen: "en"}
    assert json.loads(next(r["applicant"] for r in rows if r["id"] == before))["phone"] == "0912345678"  # the rest kept


def test_applicants_and_kept_answers_written_in_clear_are_sealed_indexed_and_opened_again_on_downgrade(
    database_url: str, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in stack.profile.personal_data_env().items():  # the migration seals with intake's ring
        monkeypatch.setenv(name, value)
    upgrade(MIGRATIONS, database_url, "0007")
    did = uuid.uuid4()
    applicant = {"name": "Nguyễn Thị Lan", "citizen_id": "079190001234", "phone": "0912345678", "email": "lan@example.vn"}
    answer = {"id": str(did), "lookup_secret": "ABCD2345"}
    asyncio.run(_sql(database_url, INSERT, did, "000.00.00.H30-261123-0001", json.dumps(applicant)))
    asyncio.run(_sql(database_url, "UPDATE intake.dossiers SET applicant_name = $1", applicant["name"]))
    asyncio.run(
        _sql(
            database_url,
            "INSERT INTO intake.idempotency_keys (key, request_hash, dossier_id, response) VALUES ('k-1', 'h', $1, $2::jsonb)",
            did,
            json.dumps(answer),
        )
    )

    upgrade(MIGRATIONS, database_url)
    (row,) = asyncio.run(_sql(database_url, "SELECT d::text AS text, d.* FROM intake.dossiers d"))
    (kept,) = asyncio.run(_sql(database_url, "SELECT response FROM intake.idempotency_keys"))
    for value in (*applicant.values(), "Nguyễn"):
        assert value not in row["text"] and value not in kept["response"]
    keys = service_ring("intake")
    assert keys.open_json(row["applicant_sealed"], purpose="intake.dossiers.applicant")["phone"] == "0912345678"
    assert keys.open(row["applicant_name"], purpose="intake.dossiers.applicant_name") == "Nguyễn Thị Lan"
    assert row["citizen_id_index"] == keys.index("079190001234", kind="citizen_id")
    assert row["phone_index"] == keys.index("+84912345678", kind="phone")
    assert row["name_index"] == keys.index("nguyễn  thị lan", kind="name")
    assert json.loads(keys.open(kept["response"], purpose="intake.idempotency_keys.response") or "") == answer

    command.downgrade(alembic_config(MIGRATIONS, database_url), "0007")
    (row,) = asyncio.run(_sql(database_url, "SELECT applicant, applicant_name FROM intake.dossiers"))
    assert json.loads(row["applicant"]) == applicant and row["applicant_name"] == "Nguyễn Thị Lan"
    (kept,) = asyncio.run(_sql(database_url, "SELECT response FROM intake.idempotency_keys"))
    assert json.loads(kept["response"]) == answer
