"""The retry schedule every worker and consumer shares, and the loop a work queue runs in."""

from __future__ import annotations

import asyncio
import random

from services.work_queue import backoff_seconds, work_loop


def test_backoff_doubles_up_to_its_cap_and_spreads_retries_that_failed_together() -> None:
    rng = random.Random(7)
    for attempt, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 10.0), (60, 10.0)):
        delays = [backoff_seconds(attempt, 0.5, 10.0, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), attempt
        assert max(delays) - min(delays) > ceiling / 4  # not all at the same instant


async def test_a_worker_goes_on_at_once_while_it_finds_work_waits_when_idle_and_backs_off_when_failing() -> None:
    stop = asyncio.Event()
    rounds: list[str] = []
    script = iter(["work", "work", "fail", "fail", "idle", "work"])

    async def round_() -> int:
        step = next(script, "stop")
        rounds.append(step)
        if step == "stop":
            stop.set()
            return 0
        if step == "fail":
            raise ConnectionError("database away")
        return 1 if step == "work" else 0

    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(work_loop("test", round_, stop, idle_seconds=0.2, error_base_seconds=0.05, error_cap_seconds=0.1), 5)
    assert rounds == ["work", "work", "fail", "fail", "idle", "work", "stop"]
    # two failures (at most 0.05 + 0.1 s) and one idle wait (0.2 s); work rounds do not wait
    assert 0.2 <= loop.time() - started < 1.5
