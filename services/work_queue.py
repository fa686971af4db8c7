"""Work queues in a service's own tables (routing's LGSP deliveries and portal pushes, notify's
notices, deadline's timers): one backoff-with-jitter function, the claim of due rows under a lease,
and the loop a worker runs them in.

A claim locks due rows with `FOR UPDATE SKIP LOCKED`, so replicas take disjoint batches, and
pushes their `next_attempt_at` past a lease before the claiming transaction commits: the work
(an HTTP call, an SMTP send) then runs outside any transaction, and if the worker dies on the way
the rows fall due again once the lease has run out."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping

import asyncpg
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import driver_connection

log = logging.getLogger(__name__)


def backoff_seconds(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """How long to wait after the `attempt`-th failure (1-based): exponential, capped, with jitter
    (uniform in [c/2, c] for c = min(cap, base·2^(attempt−1))), so that callers who failed together
    do not all retry at the same instant."""
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    return ceiling * (0.5 + 0.5 * (rng or random).random())


async def wait_for(event: asyncio.Event, timeout: float) -> bool:
    """Wait until `event` is set or `timeout` seconds have passed; True when it was set."""
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return False
    return True


async def work_loop(
    name: str,
    round_: Callable[[], Awaitable[int]],
    stop: asyncio.Event,
    *,
    idle_seconds: float,
    error_base_seconds: float = 0.5,
    error_cap_seconds: float = 10.0,
) -> None:
    """Run `round_` (which returns how much it did) until `stop`: again at once while it finds
    work, after `idle_seconds` when it found none, and after a growing pause (`backoff_seconds`)
    while it fails, e.g. with the database or a peer away."""
    failures = 0
    while not stop.is_set():
        try:
            done = await round_()
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failures += 1
            delay = backoff_seconds(failures, error_base_seconds, error_cap_seconds)
            log.warning("%s round failed (%s: %s); retrying in %.1fs", name, type(exc).__name__, exc, delay)
            await wait_for(stop, delay)
            continue
        if not done:
            await wait_for(stop, idle_seconds)


class LeasedQueue:
    """The rows of `table` (primary key `id`, a `next_attempt_at` column) that are due.

    `due` is the SQL condition of a claimable row, `order` the order they are taken in, `on_claim`
    further assignments made when claiming (e.g. `status = 'sending', attempts = attempts + 1`).
    `before` names SQL expressions over each row as it was before this claim (e.g. `{"in_doubt":
    "status = 'sending'"}`; names other than the table's columns), returned after `returning`: what
    the claim overwrote."""

    def __init__(
        self,
        table: Table,
        *,
        due: str,
        order: str,
        on_claim: str = "",
        returning: str = "*",
        before: Mapping[str, str] | None = None,
    ) -> None:
        self.table = table
        name = f"{table.schema}.{table.name}"
        also = f", {on_claim}" if on_claim else ""
        claim = f"UPDATE {name} SET next_attempt_at = now() + make_interval(secs => $1){also} "
        rows = f"FROM {name} WHERE {due} ORDER BY {order} LIMIT $2 FOR UPDATE SKIP LOCKED"
        if not before:
            self._claim = f"{claim}WHERE id IN (SELECT id {rows}) RETURNING {returning}"
            return
        # The rows are locked and read in a sub-select joined to the update: its RETURNING sees
        # the new row and what the sub-select read of the old one.
        read = ", ".join(f"{expression} AS {label}" for label, expression in before.items())
        self._claim = (
            f"{claim}FROM (SELECT id AS claimed_id, {read} {rows}) AS claimed "
            f"WHERE {name}.id = claimed.claimed_id RETURNING {returning}, {', '.join(before)}"
        )

    async def claim(self, session: AsyncSession, limit: int, lease_seconds: float) -> list[asyncpg.Record]:
        """Claim up to `limit` due rows for `lease_seconds`, in the session's transaction (commit it before working on them)."""
        rows = await (await driver_connection(session)).fetch(self._claim, float(lease_seconds), limit)
        return list(rows)
