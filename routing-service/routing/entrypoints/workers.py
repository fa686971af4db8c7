"""Routing's background workers: delivering steps to agencies' own systems through the LGSP, keeping
the national portal (DVCQG) in step (with a periodic reconciliation), and forgetting old nonces.
Each runs its rounds in `services.work_queue.work_loop`: again at once while there is work, after
EXCHANGE_POLL_SECONDS when there is none, after a growing pause while a round fails (the database
away: nothing is lost, the rows wait)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge

from routing.adapters.exchange import lgsp_systems, national_portal
from routing.application.exchange import Attempt, deliver_due, push_due, reconcile_portal
from routing.application.housekeeping import purge_nonces
from routing.domain.exchange import Breakers, CircuitBreaker
from services.work_queue import work_loop

if TYPE_CHECKING:
    from routing.service import Routing

EXCHANGES = Counter("motcua_routing_exchanges_total", "Outbound exchanges by target and outcome.", ["target", "outcome"])
BREAKER_OPEN = Gauge("motcua_routing_breaker_open", "1 while the circuit breaker of an endpoint is open.", ["endpoint"])


def _count(attempts: list[Attempt]) -> int:
    for attempt in attempts:
        EXCHANGES.labels(attempt.target, attempt.outcome).inc()
        if attempt.outcome != "breaker_open":
            BREAKER_OPEN.labels(attempt.endpoint).set(attempt.breaker_open)
    return len(attempts)


async def deliver_steps(routing: Routing, stop: asyncio.Event) -> None:
    settings = routing.settings
    breakers = Breakers(settings.breaker_threshold, settings.breaker_reset_seconds)
    async with lgsp_systems(settings) as systems:

        async def round_() -> int:
            return _count(await deliver_due(routing.uow, systems, breakers, routing.retry))

        await work_loop("LGSP delivery", round_, stop, idle_seconds=settings.exchange_poll_seconds)


async def sync_portal(routing: Routing, stop: asyncio.Event) -> None:
    settings = routing.settings
    if not settings.portal_url:
        return
    breaker = CircuitBreaker(settings.breaker_threshold, settings.breaker_reset_seconds)
    last_reconcile = time.monotonic()
    async with national_portal(settings) as portal:

        async def round_() -> int:
            nonlocal last_reconcile
            tried = _count(await push_due(routing.uow, portal, breaker, routing.retry))
            now = time.monotonic()
            if now - last_reconcile >= settings.portal_reconcile_seconds and breaker.state(now) == "closed":
                last_reconcile = now
                await reconcile_portal(routing.uow, portal)
            return tried

        await work_loop("national portal sync", round_, stop, idle_seconds=settings.exchange_poll_seconds)


async def housekeeping(routing: Routing, stop: asyncio.Event) -> None:
    """Every INBOUND_MAX_SKEW_SECONDS, the nonces no request can be replayed with any more are forgotten."""
    skew = routing.settings.inbound_max_skew_seconds

    async def round_() -> int:
        await purge_nonces(routing.uow, max_skew_seconds=skew)
        return 0  # then wait for the next round

    await work_loop("nonce housekeeping", round_, stop, idle_seconds=skew)
