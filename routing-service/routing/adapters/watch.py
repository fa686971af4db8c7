"""What the operators watch in routing's exchange queues, read at each scrape of /metrics: rows
given up on (state failed, waiting for an operator's resend) and rows being retried (pending after
at least one failed attempt). Both counts use the queues' index on state."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from routing.application.ports import Queue

QUEUES: tuple[Queue, ...] = ("deliveries", "portal_pushes")


async def failing(engine: AsyncEngine) -> dict[tuple[Queue, str], int]:
    """(queue, 'failed' | 'retrying') -> rows."""
    counts: dict[tuple[Queue, str], int] = {}
    async with engine.connect() as conn:
        for queue in QUEUES:
            row = (
                await conn.execute(
                    text(
                        f"SELECT (SELECT count(*) FROM routing.{queue} WHERE state = 'failed') AS failed, "
                        f"(SELECT count(*) FROM routing.{queue} WHERE state = 'pending' AND attempts > 0) AS retrying"
                    )
                )
            ).one()
            counts[(queue, "failed")] = int(row.failed)
            counts[(queue, "retrying")] = int(row.retrying)
    return counts
