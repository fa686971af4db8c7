"""What waits in a service's messaging tables: unpublished outbox rows and the age of the oldest,
parked events and dead letters not yet replayed. Read at each scrape of /metrics."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.messaging.tables import MessagingTables
from services.metrics import (
    DEAD_LETTERS_PENDING,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    PARKED_EVENTS,
    PARKED_OLDEST_AGE,
)


@dataclass(frozen=True)
class Backlog:
    unpublished: int
    oldest_unpublished_age_seconds: float
    parked: int
    dead_letters: int
    oldest_parked_age_seconds: float = 0.0


async def read_backlog(engine: AsyncEngine, tables: MessagingTables) -> Backlog:
    """One round trip; `parked_events` is counted only in the services that park events."""
    schema = tables.schema
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    f"SELECT count(*) AS unpublished, "
                    f"coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest, "
                    f"(SELECT count(*) FROM {schema}.dead_letters WHERE replayed_at IS NULL) AS dead_letters, "
                    f"to_regclass('{schema}.parked_events') IS NOT NULL AS parks "
                    f"FROM {schema}.outbox WHERE published_at IS NULL"
                )
            )
        ).one()
        parked, oldest_parked = 0, 0.0
        if row.parks:
            parked, oldest_parked = (
                await conn.execute(
                    text(f"SELECT count(*), coalesce(extract(epoch FROM now() - min(parked_at)), 0) FROM {schema}.parked_events")
                )
            ).one()
    return Backlog(int(row.unpublished), float(row.oldest), int(parked), int(row.dead_letters), float(oldest_parked))


def export(backlog: Backlog) -> None:
    OUTBOX_BACKLOG.set(backlog.unpublished)
    OUTBOX_OLDEST_AGE.set(backlog.oldest_unpublished_age_seconds)
    PARKED_EVENTS.set(backlog.parked)
    PARKED_OLDEST_AGE.set(backlog.oldest_parked_age_seconds)
    DEAD_LETTERS_PENDING.set(backlog.dead_letters)
