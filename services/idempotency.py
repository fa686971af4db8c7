"""Requests that must take effect once however often they come: a receipt retried with the same
`Idempotency-Key`, an LGSP delivery retried with the same nonce.

The key is claimed in the same transaction as the action it guards, so a request whose action
fails leaves no claim behind and its retry is carried out; one that succeeded is answered again
from its first answer (same request) or refused (`KeyReused`: the key came with another body).
Two requests with the same key at once: the second's claim waits for the first's transaction,
then reads what it answered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import driver_connection


class KeyReused(Exception):
    """The key (or nonce) was used before, for another request."""


class Claims:
    """The claims of one table whose primary key is `key_columns`. With `answers`, the table also
    has `request_hash` and `response` (JSON), and a repeat of the same request gets the first
    answer; without, any repeat is refused."""

    def __init__(
        self,
        table: Table,
        key_columns: Sequence[str],
        *,
        created_column: str = "created_at",
        answers: bool = True,
        answer_columns: Sequence[str] = (),
        text_response: bool = False,
    ) -> None:
        """`text_response`: `response` is a text column (the caller stores the answer sealed, say),
        not JSON."""
        self.table = table
        self.answers = answers
        name = f"{table.schema}.{table.name}"
        keys = tuple(key_columns)
        where = " AND ".join(f'"{column}" = ${i}' for i, column in enumerate(keys, start=1))
        n = len(keys)
        columns = ", ".join(f'"{c}"' for c in keys)
        params = ", ".join(f"${i}" for i in range(1, n + 1))
        if answers:
            self._claim = (
                f"INSERT INTO {name} ({columns}, request_hash) VALUES ({params}, ${n + 1}) ON CONFLICT DO NOTHING RETURNING 1"
            )
            self._first = f"SELECT request_hash, response::text FROM {name} WHERE {where}"
            extra = "".join(f', "{c}" = ${i}' for i, c in enumerate(answer_columns, start=n + 2))
            cast = "" if text_response else "::jsonb"
            self._answer = f"UPDATE {name} SET response = ${n + 1}{cast}{extra} WHERE {where}"
        else:
            self._claim = f"INSERT INTO {name} ({columns}) VALUES ({params}) ON CONFLICT DO NOTHING RETURNING 1"
        self._purge = f'DELETE FROM {name} WHERE "{created_column}" < $1'

    def _first_answer(self, row: asyncpg.Record | None, request_hash: str) -> str | None:
        if row is None or row["response"] is None:
            return None
        if row["request_hash"] != request_hash:
            raise KeyReused()
        return str(row["response"])

    async def answered(self, connection: asyncpg.Connection, key: Sequence[Any], request_hash: str) -> str | None:
        """A look before claiming, outside any transaction: the first answer if this request was
        already carried out (KeyReused if the key came with another request), else None."""
        if not self.answers:
            return None
        return self._first_answer(await connection.fetchrow(self._first, *key), request_hash)

    async def claim(self, session: AsyncSession, key: Sequence[Any], request_hash: str = "") -> str | None:
        """Claim the key in the session's transaction. None: the first time, carry on (and
        `answer`); otherwise the first answer (JSON text) of this same request, or KeyReused."""
        connection = await driver_connection(session)
        args = (*key, request_hash) if self.answers else tuple(key)
        if await connection.fetchval(self._claim, *args) is not None:
            return None
        if not self.answers:
            raise KeyReused()
        # The first request with this key has committed (the insert waited for it).
        answer = self._first_answer(await connection.fetchrow(self._first, *key), request_hash)
        if answer is None:
            raise KeyReused()  # claimed, but its answer was never recorded: not a request we can replay
        return answer

    async def answer(self, session: AsyncSession, key: Sequence[Any], response: str, *columns: Any) -> None:
        """Record the answer (JSON text, and the `answer_columns`) of the request that claimed the key, for its repeats."""
        await (await driver_connection(session)).execute(self._answer, *key, response, *columns)

    async def purge(self, session: AsyncSession, before: datetime) -> int:
        status = await (await driver_connection(session)).execute(self._purge, before)
        return int(status.split()[-1])
