"""What the operators watch in deadline's tables, read at each scrape of /metrics: the timers
whose firing time has passed without the tick firing them (the index on unfired rows finds them),
and the dossiers resolved since a given time, on time or not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True)
class LateTimers:
    count: int
    oldest_seconds: float  # how long past its firing time the oldest unfired timer is (0 when none)


@dataclass(frozen=True)
class Resolved:
    resolved: int
    on_time: int  # early or on time, as the on-time report counts them


async def late_timers(engine: AsyncEngine, grace_seconds: float) -> LateTimers:
    """Timers due more than `grace_seconds` ago (a tick interval and then some) and not fired."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(fire_at)), 0) AS oldest "
                    "FROM deadline.timers WHERE fire_at IS NOT NULL AND fire_at < now() - make_interval(secs => :grace)"
                ),
                {"grace": grace_seconds},
            )
        ).one()
    return LateTimers(int(row.n), float(row.oldest))


async def resolved_since(engine: AsyncEngine, since: datetime) -> Resolved:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT count(*) AS resolved, count(*) FILTER (WHERE outcome IN ('early', 'on_time')) AS on_time "
                    "FROM deadline.dossiers WHERE state = 'resolved' AND ended_at >= :since"
                ),
                {"since": since},
            )
        ).one()
    return Resolved(int(row.resolved), int(row.on_time))
