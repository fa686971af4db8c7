"""The driver connection under a session: what runs on it commits, rolls back, and rolls back to a
savepoint with the session, even when it is the transaction's first statement."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from services.db import create_engine, create_sessionmaker, driver_connection
from services.settings import ServiceSettings


@pytest.fixture
async def sessions(apply_env: dict[str, str]) -> AsyncIterator[tuple[object, str]]:
    engine = create_engine(ServiceSettings())
    table = f"public.driver_{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE TABLE {table} (v text PRIMARY KEY, doc jsonb)"))
    yield create_sessionmaker(engine), table
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP TABLE {table}"))
    await engine.dispose()


async def values(sessions: tuple[object, str]) -> list[str]:
    maker, table = sessions
    async with maker() as session:  # type: ignore[operator]
        return list((await session.execute(text(f"SELECT v FROM {table} ORDER BY v"))).scalars())


async def test_a_driver_statement_first_in_a_transaction_rolls_back_with_it(sessions: tuple[object, str]) -> None:
    maker, table = sessions
    with pytest.raises(RuntimeError):
        async with maker() as session, session.begin():  # type: ignore[operator]
            await (await driver_connection(session)).execute(f"INSERT INTO {table} (v) VALUES ('raw')")
            await session.execute(text(f"INSERT INTO {table} (v) VALUES ('orm')"))
            raise RuntimeError("the handler failed")
    assert await values(sessions) == []


async def test_driver_and_session_statements_commit_together(sessions: tuple[object, str]) -> None:
    maker, table = sessions
    async with maker() as session, session.begin():  # type: ignore[operator]
        await session.execute(text(f"INSERT INTO {table} (v) VALUES ('orm')"))
        conn = await driver_connection(session)
        await conn.execute(f"INSERT INTO {table} (v, doc) VALUES ('raw', $1::jsonb)", '{"a": "ồ"}')
        assert await conn.fetchval(f"SELECT doc->>'a' FROM {table} WHERE v = 'raw'") == "ồ"
    assert await values(sessions) == ["orm", "raw"]


async def test_a_savepoint_rolls_back_driver_statements_and_keeps_the_rest(sessions: tuple[object, str]) -> None:
    maker, table = sessions
    async with maker() as session, session.begin():  # type: ignore[operator]
        await (await driver_connection(session)).execute(f"INSERT INTO {table} (v) VALUES ('kept')")
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                await (await driver_connection(session)).execute(f"INSERT INTO {table} (v) VALUES ('undone')")
                raise RuntimeError("one event failed")
    assert await values(sessions) == ["kept"]


async def test_rows_inserted_on_the_driver_read_back_the_same_through_sqlalchemy(apply_env: dict[str, str]) -> None:
    from sqlalchemy import Column, Integer, MetaData, String, Table, select
    from sqlalchemy.dialects.postgresql import JSONB

    from services.db import insert_row, insert_rows

    schema = f"driver_{uuid.uuid4().hex[:8]}"
    table = Table(
        "rows",
        MetaData(schema=schema),
        Column("id", Integer, primary_key=True),
        Column("after", String(20)),
        Column("doc", JSONB),
    )
    engine = create_engine(ServiceSettings())
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"CREATE SCHEMA {schema}"))
            await conn.run_sync(table.metadata.create_all)
        maker = create_sessionmaker(engine)
        async with maker() as session, session.begin():
            first = await insert_row(session, table, {"id": 1, "after": "x", "doc": {"tên": "Lan", "n": [1, 2]}}, "RETURNING id")
            again = await insert_row(session, table, {"id": 1, "after": "y", "doc": None}, "ON CONFLICT DO NOTHING RETURNING id")
            await insert_rows(session, table, [{"id": 2, "after": None, "doc": []}, {"doc": {"a": None}, "after": "z", "id": 3}])
        assert (first["id"], again) == (1, None)
        async with maker() as session:
            rows = (await session.execute(select(table).order_by(table.c.id))).all()
        assert [tuple(r) for r in rows] == [(1, "x", {"tên": "Lan", "n": [1, 2]}), (2, None, []), (3, "z", {"a": None})]
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        await engine.dispose()
