"""Background housekeeping: forget look-up counters of past windows and expired Idempotency-Keys and LGSP nonces."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from intake.adapters.tables import idempotency_keys, inbound_nonces, lookup_attempts
from services.messaging.relay import wait_for
from services.runtime import Runtime

log = logging.getLogger(__name__)


async def purge_once(runtime: Runtime) -> tuple[int, int]:
    settings = runtime.settings
    now = datetime.now(UTC)
    async with runtime.sessionmaker() as session, session.begin():
        attempts = await session.execute(
            delete(lookup_attempts).where(lookup_attempts.c.window_start < now - timedelta(seconds=settings.lookup_rate_window_s))  # type: ignore[attr-defined]
        )
        keys = await session.execute(
            delete(idempotency_keys).where(idempotency_keys.c.created_at < now - timedelta(hours=settings.idempotency_ttl_hours))  # type: ignore[attr-defined]
        )
        # an LGSP nonce is its delivery's idempotency key: kept as long, not just the freshness window
        await session.execute(
            delete(inbound_nonces).where(inbound_nonces.c.created_at < now - timedelta(hours=settings.idempotency_ttl_hours))  # type: ignore[attr-defined]
        )
    return attempts.rowcount, keys.rowcount


async def housekeeping(runtime: Runtime, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await purge_once(runtime)
        except Exception as exc:  # the database may be away; try again next round
            log.warning("housekeeping skipped: %s", exc)
        await wait_for(stop, runtime.settings.housekeeping_interval_s)  # type: ignore[attr-defined]
