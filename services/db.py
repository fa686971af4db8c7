"""The async SQLAlchemy engine and session factory of a service."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql import sqltypes

from services.settings import ServiceSettings

# Another transaction held what this one needed (a deadlock, a serialization failure, a lock not
# available at once): nothing is wrong with the statement, and it is worth running again.
LOCK_CONFLICTS = frozenset({"40P01", "40001", "55P03"})


def sqlstate(exc: BaseException) -> str | None:
    """PostgreSQL's SQLSTATE of an error, whether SQLAlchemy wrapped it or asyncpg raised it (driver connection)."""
    orig = getattr(exc, "orig", exc)
    for error in (orig, getattr(orig, "__cause__", None)):
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def is_lock_conflict(exc: BaseException) -> bool:
    return sqlstate(exc) in LOCK_CONFLICTS


def create_engine(settings: ServiceSettings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        # No overflow: connections past the pool were closed as soon as they were returned, so a
        # burst opened (and set up, and prepared statements on) a new connection per transaction.
        # Past the pool, callers wait their turn.
        max_overflow=0,
        pool_timeout=5,  # past this, a request answers 503 instead of queueing on
        # No ping before each checkout (a round trip per transaction): a connection that died with
        # the server fails its statement, SQLAlchemy then discards the pool, and the caller retries
        # (consumers re-read the batch; the API answers 503 with Retry-After).
        pool_pre_ping=False,
        pool_recycle=1800,
        hide_parameters=True,  # a failed statement's message must not carry citizen ids or phone numbers into the log
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def asyncpg_dsn(database_url: str) -> str:
    """The plain libpq URL of a SQLAlchemy URL, for raw asyncpg connections (LISTEN, advisory locks)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under `session`, inside the session's transaction.

    For statements run for every event or receipt: through SQLAlchemy a statement costs about
    four times the client CPU of the driver's own cached prepared statement (230 µs against 60 µs
    here), and that was most of the CPU per dossier. What runs here commits or rolls back (and
    rolls back to a savepoint) with the session. The connection's json and jsonb codecs are
    SQLAlchemy's: JSON goes in as text and comes out decoded."""
    connection = await session.connection()
    adapted = (await connection.get_raw_connection()).dbapi_connection
    # SQLAlchemy's asyncpg adapter sends BEGIN lazily, with its first statement; ours may be first.
    if adapted._transaction is None and adapted.isolation_level != "autocommit":  # noqa: SLF001
        await adapted._start_transaction()  # noqa: SLF001
    return adapted.driver_connection


async def autocommit_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under `session` before its transaction has begun: a statement run
    here commits on its own, at once. For what must not wait for the transaction's end (a row lock
    other transactions queue on, such as a dossier-code counter) while the unit of work still takes
    one connection from the pool, not two. Raises once the transaction has begun."""
    connection = await session.connection()
    adapted = (await connection.get_raw_connection()).dbapi_connection
    if adapted._transaction is not None:  # noqa: SLF001
        raise RuntimeError("the session's transaction has already begun")
    return adapted.driver_connection


# Statement text per (table, columns, kind), built once: the driver then prepares it once per connection.
_STATEMENTS: dict[tuple[Table, tuple[str, ...], str], tuple[str, tuple[bool, ...]]] = {}


def _insert_sql(table: Table, columns: tuple[str, ...], suffix: str) -> tuple[str, tuple[bool, ...]]:
    key = (table, columns, suffix)
    found = _STATEMENTS.get(key)
    if found is None:
        is_json = tuple(isinstance(table.c[name].type, sqltypes.JSON) for name in columns)
        casts = [
            ("::jsonb" if isinstance(table.c[name].type, JSONB) else "::json") if j else ""
            for name, j in zip(columns, is_json, strict=True)
        ]
        names = ", ".join(f'"{name}"' for name in columns)
        params = ", ".join(f"${i}{cast}" for i, cast in enumerate(casts, start=1))
        found = _STATEMENTS[key] = (
            f"INSERT INTO {table.schema}.{table.name} ({names}) VALUES ({params}) {suffix}".rstrip(),
            is_json,
        )
    return found


def _arguments(values: Mapping[str, Any], columns: tuple[str, ...], is_json: tuple[bool, ...]) -> list[Any]:
    return [
        json.dumps(values[name], ensure_ascii=False) if j and values[name] is not None else values[name]
        for name, j in zip(columns, is_json, strict=True)
    ]


async def insert_row(session: AsyncSession, table: Table, values: Mapping[str, Any], suffix: str = "") -> asyncpg.Record | None:
    """INSERT one row of a table on the driver connection (JSON columns serialised here); `suffix`
    adds e.g. `ON CONFLICT DO NOTHING RETURNING id`, whose row is returned."""
    columns = tuple(values)
    sql, is_json = _insert_sql(table, columns, suffix)
    return await (await driver_connection(session)).fetchrow(sql, *_arguments(values, columns, is_json))


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]], suffix: str = "") -> None:
    """INSERT several rows with the same columns, as one batch of the driver's executemany."""
    if not rows:
        return
    columns = tuple(rows[0])
    sql, is_json = _insert_sql(table, columns, suffix)
    await (await driver_connection(session)).executemany(sql, [_arguments(row, columns, is_json) for row in rows])


async def update_row(session: AsyncSession, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]) -> str:
    """UPDATE the row of `table` whose columns equal `key` on the driver connection; the command status."""
    columns = (*values, *key)
    sql_key = (table, columns, "UPDATE")
    found = _STATEMENTS.get(sql_key)
    if found is None:
        is_json = tuple(isinstance(table.c[name].type, sqltypes.JSON) for name in columns)
        sets = ", ".join(f'"{name}" = ${i}' for i, name in enumerate(values, start=1))
        where = " AND ".join(f'"{name}" = ${i}' for i, name in enumerate(key, start=len(values) + 1))
        found = _STATEMENTS[sql_key] = (f"UPDATE {table.schema}.{table.name} SET {sets} WHERE {where}", is_json)
    sql, is_json = found
    return await (await driver_connection(session)).execute(sql, *_arguments({**values, **key}, columns, is_json))
