"""Deadline's gauges, set at each scrape of /metrics: timers due but not fired (a tick that stopped
running, or keeps failing, shows here before any citizen misses a warning), and this month's
on-time rate ("tỷ lệ hồ sơ giải quyết đúng hạn", Vietnam time), which is read at most once a minute."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import Gauge

from deadline.adapters.watch import late_timers, resolved_since
from services.vocabulary import VN_TZ

if TYPE_CHECKING:
    from services.runtime import Runtime

TIMERS_LATE = Gauge(
    "motcua_deadline_timers_due_unfired",
    "Timers whose firing time passed more than a tick interval ago and that have not fired.",
)
TIMERS_LATE_OLDEST = Gauge(
    "motcua_deadline_timers_due_unfired_oldest_seconds",
    "How long past its firing time the oldest unfired timer is (0 when none).",
)
RESOLVED_MONTH = Gauge("motcua_deadline_resolved_month", "Dossiers resolved this month (Vietnam time).")
ON_TIME_RATIO = Gauge(
    "motcua_deadline_on_time_ratio",
    "Share of this month's resolved dossiers resolved early or on time (1 while none is resolved).",
)
ON_TIME_EVERY_SECONDS = 60.0
# A timer is late once its firing time is this many tick intervals behind (and at least this many seconds).
GRACE_TICKS = 3
GRACE_MIN_SECONDS = 30.0


def month_start(now: datetime) -> datetime:
    """The first instant of `now`'s month in Vietnam time."""
    local = now.astimezone(VN_TZ)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def on_time_ratio(resolved: int, on_time: int) -> float:
    return on_time / resolved if resolved else 1.0


def grace_seconds(tick_interval_ms: int) -> float:
    return max(GRACE_MIN_SECONDS, GRACE_TICKS * tick_interval_ms / 1000)


class Throttle:
    """Lets something run at most once per `seconds`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.last = float("-inf")

    def due(self, now: float) -> bool:
        if now - self.last < self.seconds:
            return False
        self.last = now
        return True


_on_time_reads = Throttle(ON_TIME_EVERY_SECONDS)


async def scrape(runtime: Runtime[Any, Any]) -> None:
    late = await late_timers(runtime.engine, grace_seconds(runtime.settings.tick_interval_ms))
    TIMERS_LATE.set(late.count)
    TIMERS_LATE_OLDEST.set(late.oldest_seconds)
    if _on_time_reads.due(time.monotonic()):
        month = await resolved_since(runtime.engine, month_start(datetime.now(VN_TZ)))
        RESOLVED_MONTH.set(month.resolved)
        ON_TIME_RATIO.set(on_time_ratio(month.resolved, month.on_time))
