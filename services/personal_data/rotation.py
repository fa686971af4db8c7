"""Moving sealed values to the ring's sealing key in the background, after a new key was put
first: rows sealed under an older key are opened and sealed again, a batch per transaction, until
none is left; then the old key can leave the ring. Rows are locked with SKIP LOCKED, so replicas
share the work and a request writing a row is never waited on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db import driver_connection
from services.personal_data.keys import PREFIX, KeyRing

RESEALED = Counter(
    "motcua_personal_data_resealed_total", "Sealed values moved to the sealing key, by table and column.", ["column"]
)
STALE = Gauge(
    "motcua_personal_data_stale_key_values", "Sealed values still under an older key at the last rotation round.", ["column"]
)


@dataclass(frozen=True)
class SealedColumn:
    table: str  # schema-qualified
    key: str  # the primary key column (one column)
    column: str
    purpose: str  # the associated data it was sealed with

    @property
    def label(self) -> str:
        return f"{self.table}.{self.column}"


async def reseal_round(
    sessionmaker: async_sessionmaker[AsyncSession], keys: KeyRing, columns: Sequence[SealedColumn], batch: int = 500
) -> int:
    """One batch per column; how many values were sealed again (0: every column is on the sealing key)."""
    done = 0
    for col in columns:
        async with sessionmaker() as session, session.begin():
            conn = await driver_connection(session)
            rows = await conn.fetch(
                f"SELECT {col.key} AS k, {col.column} AS v FROM {col.table} "
                f"WHERE {col.column} LIKE '{PREFIX}.%' AND split_part({col.column}, '.', 2) <> $1 LIMIT $2 FOR UPDATE SKIP LOCKED",
                keys.active,
                batch,
            )
            if rows:
                await conn.executemany(
                    f"UPDATE {col.table} SET {col.column} = $2 WHERE {col.key} = $1",
                    [(r["k"], keys.reseal(r["v"], purpose=col.purpose)) for r in rows],
                )
                RESEALED.labels(col.label).inc(len(rows))
            left = await conn.fetchval(
                f"SELECT count(*) FROM {col.table} WHERE {col.column} LIKE '{PREFIX}.%' AND split_part({col.column}, '.', 2) <> $1",
                keys.active,
            )
            STALE.labels(col.label).set(left)
        done += len(rows)
    return done
