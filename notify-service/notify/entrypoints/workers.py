"""Notify's background worker: the dispatcher, sending due notices round after round
(NOTIFY_DISPATCH_POLL_MS apart while none is due)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from notify.application.dispatching import dispatch_once
from services.work_queue import work_loop

if TYPE_CHECKING:
    from notify.service import Notify


async def dispatcher(notify: Notify, stop: asyncio.Event) -> None:
    settings = notify.settings
    outlets = notify.outlets()

    async def round_() -> int:
        return await dispatch_once(
            notify.uow,
            outlets,
            batch=settings.dispatch_batch,
            lease_seconds=settings.sending_lease_seconds,
            retries=notify.retries,
        )

    try:
        await work_loop("dispatcher", round_, stop, idle_seconds=settings.dispatch_poll_ms / 1000)
    finally:
        await outlets.close()
