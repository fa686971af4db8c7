"""Deadline's background worker: the tick at the current time every DEADLINE_TICK_INTERVAL_MS."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client import Counter

from deadline.application.timers import TickResult, fire_due_timers
from services.work_queue import work_loop

if TYPE_CHECKING:
    from deadline.service import Deadline

log = logging.getLogger(__name__)
TIMERS_FIRED = Counter("motcua_deadline_timers_fired_total", "Deadline timers fired", ["kind"])
TIMERS_FIRED.labels("warning")
TIMERS_FIRED.labels("overdue")


def count_fired(result: TickResult) -> None:
    """The timers a tick fired, in the metrics (the worker's ticks and the operator's alike)."""
    if result.warnings:
        TIMERS_FIRED.labels("warning").inc(result.warnings)
    if result.overdue:
        TIMERS_FIRED.labels("overdue").inc(result.overdue)


async def timer_worker(deadline: Deadline, stop: asyncio.Event) -> None:
    settings = deadline.settings

    async def tick() -> int:
        result = await fire_due_timers(
            deadline.uow,
            deadline.rules,
            datetime.now(UTC),
            batch=settings.tick_batch,
            min_extension_hours=settings.apology_min_extension_hours,
        )
        count_fired(result)
        if result.fired:
            log.info("tick fired %d timers (%d warnings, %d overdue)", result.fired, result.warnings, result.overdue)
        return 0  # a tick fires everything due now: the next one waits for the interval

    await work_loop("timer tick", tick, stop, idle_seconds=settings.tick_interval_ms / 1000)
