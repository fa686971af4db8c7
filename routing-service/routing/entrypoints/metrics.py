"""Routing's gauges, set at each scrape of /metrics: LGSP deliveries and portal pushes given up on
or being retried. With `motcua_routing_exchanges_total` (each attempt's outcome, every label set
shown from the start so a rate over it exists before the first failure) they say when an agency's
system or the national portal stops taking what routing sends."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prometheus_client import Gauge

from routing.adapters.watch import QUEUES, failing
from routing.entrypoints.workers import EXCHANGES

if TYPE_CHECKING:
    from services.runtime import Runtime

FAILING = Gauge(
    "motcua_routing_exchange_failing",
    "Outbound rows given up on (failed: an operator must resend) or being retried after a failure (retrying), by queue.",
    ["queue", "state"],
)
OUTCOMES = {"lgsp": ("delivered", "failed", "breaker_open"), "portal": ("pushed", "failed", "breaker_open")}
for _target, _outcomes in OUTCOMES.items():
    for _outcome in _outcomes:
        EXCHANGES.labels(_target, _outcome)
for _queue in QUEUES:
    for _state in ("failed", "retrying"):
        FAILING.labels(_queue, _state)


async def scrape(runtime: Runtime[Any, Any]) -> None:
    for (queue, state), rows in (await failing(runtime.engine)).items():
        FAILING.labels(queue, state).set(rows)
