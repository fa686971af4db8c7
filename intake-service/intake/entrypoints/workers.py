"""Intake's background worker: housekeeping every INTAKE_HOUSEKEEPING_INTERVAL_S."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from intake.application.housekeeping import purge_expired
from services.work_queue import work_loop

if TYPE_CHECKING:
    from intake.service import Intake


async def housekeeping(intake: Intake, stop: asyncio.Event) -> None:
    settings = intake.settings

    async def round_() -> int:
        await purge_expired(
            intake.uow, lookup_window_seconds=settings.lookup_rate_window_s, claims_ttl_hours=settings.idempotency_ttl_hours
        )
        return 0  # then wait for the next round

    await work_loop("housekeeping", round_, stop, idle_seconds=settings.housekeeping_interval_s)
