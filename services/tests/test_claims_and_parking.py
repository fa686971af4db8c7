"""Claims of keys and nonces, parked events and the autocommit connection, over the real PostgreSQL:
what a retried request, a replayed nonce or an event read too early does to what is stored."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, String, Table, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db import autocommit_connection, create_engine, create_sessionmaker, driver_connection
from services.events.schemas import RouteCompleted, StepAssigned
from services.idempotency import Claims, KeyReused
from services.messaging.parking import Parking, parked_events_table
from services.settings import ServiceSettings

MONDAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


class Kernel:
    def __init__(self, maker: async_sessionmaker[AsyncSession], schema: str) -> None:
        self.maker = maker
        metadata = MetaData(schema=schema)
        keys = Table(
            "keys",
            metadata,
            Column("key", String, primary_key=True),
            Column("request_hash", String, nullable=False),
            Column("response", JSONB),
            Column("created_at", String),
        )
        nonces = Table("nonces", metadata, Column("nonce", String, primary_key=True), Column("created_at", String))
        self.answers = Claims(keys, ["key"])
        self.nonces = Claims(nonces, ["nonce"], answers=False)
        self.parking = Parking(parked_events_table(metadata))
        self.schema = schema


@pytest.fixture
async def kernel(apply_env: dict[str, str]) -> AsyncIterator[Kernel]:
    engine = create_engine(ServiceSettings())
    schema = f"claims_{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
        await conn.execute(
            text(
                f"CREATE TABLE {schema}.keys (key text PRIMARY KEY, request_hash text NOT NULL, response jsonb, created_at text)"
            )
        )
        await conn.execute(text(f"CREATE TABLE {schema}.nonces (nonce text PRIMARY KEY, created_at text)"))
        await conn.execute(
            text(
                f"CREATE TABLE {schema}.parked_events (id bigserial PRIMARY KEY, dossier_id uuid NOT NULL, envelope jsonb NOT NULL, "
                "parked_at timestamptz NOT NULL DEFAULT now())"
            )
        )
    yield Kernel(create_sessionmaker(engine), schema)
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    await engine.dispose()


async def count(kernel: Kernel, table: str) -> Any:
    async with kernel.maker() as session:
        return (await session.execute(text(f"SELECT count(*) FROM {kernel.schema}.{table}"))).scalar_one()


async def test_a_claim_whose_action_fails_is_undone_so_the_retry_is_carried_out(kernel: Kernel) -> None:
    with pytest.raises(RuntimeError):
        async with kernel.maker() as session, session.begin():
            assert await kernel.nonces.claim(session, ["n-1"]) is None
            raise RuntimeError("the action failed")
    async with kernel.maker() as session, session.begin():
        assert await kernel.nonces.claim(session, ["n-1"]) is None  # not "replayed": the first attempt left nothing
    with pytest.raises(KeyReused):
        async with kernel.maker() as session, session.begin():
            await kernel.nonces.claim(session, ["n-1"])


async def test_a_repeated_request_gets_the_first_answer_and_another_request_under_the_key_is_refused(kernel: Kernel) -> None:
    async with kernel.maker() as session, session.begin():
        assert await kernel.answers.claim(session, ["k"], "hash-a") is None
        await kernel.answers.answer(session, ["k"], '{"id": 1}')
    async with kernel.maker() as session, session.begin():
        assert await kernel.answers.claim(session, ["k"], "hash-a") == '{"id": 1}'
        assert await kernel.answers.answered(await driver_connection(session), ["k"], "hash-a") == '{"id": 1}'
        with pytest.raises(KeyReused):
            await kernel.answers.claim(session, ["k"], "hash-b")
    assert await count(kernel, "keys") == 1


async def test_the_same_key_twice_at_once_the_second_waits_and_answers_the_first(kernel: Kernel) -> None:
    first_claimed, finish_first = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with kernel.maker() as session, session.begin():
            assert await kernel.answers.claim(session, ["same"], "h") is None
            first_claimed.set()
            await finish_first.wait()
            await kernel.answers.answer(session, ["same"], '{"id": "first"}')

    async def second() -> str | None:
        await first_claimed.wait()
        async with kernel.maker() as session, session.begin():
            return await kernel.answers.claim(session, ["same"], "h")

    one, two = asyncio.create_task(first()), asyncio.create_task(second())
    await first_claimed.wait()
    await asyncio.sleep(0.3)
    assert not two.done()  # waiting on the first's uncommitted claim
    finish_first.set()
    await one
    assert await asyncio.wait_for(two, 10) == '{"id": "first"}'


async def test_parked_events_come_back_once_in_the_order_they_were_read(kernel: Kernel) -> None:
    dossier = str(uuid.uuid4())
    assigned = StepAssigned(step_id="s1", agency_code="A", agency_name="A", budget_hours=8, assigned_at=MONDAY)
    events = [e.envelope(dossier_id=dossier, producer="routing") for e in (assigned, RouteCompleted(completed_at=MONDAY))]
    async with kernel.maker() as session, session.begin():
        for envelope in events:
            await kernel.parking.park(session, envelope)
    async with kernel.maker() as session, session.begin():
        released = await kernel.parking.bind(session).release(dossier)
    assert [e.event_id for e in released] == [e.event_id for e in events]
    async with kernel.maker() as session, session.begin():
        assert await kernel.parking.release(session, dossier) == []


async def test_parking_and_releasing_one_dossier_wait_for_each_other(kernel: Kernel) -> None:
    dossier = str(uuid.uuid4())
    held, done = asyncio.Event(), asyncio.Event()

    async def releasing() -> None:
        async with kernel.maker() as session, session.begin():
            await kernel.parking.hold(session, dossier)
            held.set()
            await done.wait()

    async def parking() -> None:
        async with kernel.maker() as session, session.begin():
            await kernel.parking.park(
                session, RouteCompleted(completed_at=MONDAY).envelope(dossier_id=dossier, producer="routing")
            )

    holder = asyncio.create_task(releasing())
    await held.wait()
    parker = asyncio.create_task(parking())
    await asyncio.sleep(0.3)
    assert not parker.done()  # the dossier's lock is held until the other transaction ends
    async with kernel.maker() as session:
        other = str(uuid.uuid4())
        async with session.begin():
            await kernel.parking.hold(session, other)  # another dossier is not held up
    done.set()
    await holder
    await asyncio.wait_for(parker, 10)
    assert await count(kernel, "parked_events") == 1


async def test_a_statement_before_the_transaction_commits_even_if_the_transaction_rolls_back(kernel: Kernel) -> None:
    with pytest.raises(RuntimeError):
        async with kernel.maker() as session, session.begin():
            await (await autocommit_connection(session)).execute(f"INSERT INTO {kernel.schema}.nonces (nonce) VALUES ('early')")
            await (await driver_connection(session)).execute(f"INSERT INTO {kernel.schema}.nonces (nonce) VALUES ('late')")
            with pytest.raises(RuntimeError):
                await autocommit_connection(session)  # once the transaction began, no more
            raise RuntimeError("the rest failed")
    async with kernel.maker() as session:
        assert list((await session.execute(text(f"SELECT nonce FROM {kernel.schema}.nonces"))).scalars()) == ["early"]
