"""Forgetting what has served its time: the nonces of signed LGSP requests, once older than any
request still fresh enough to be accepted (a replay of an older one is refused as stale anyway)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from routing.application.ports import RoutingUnitOfWork


async def purge_nonces(uow: RoutingUnitOfWork, *, max_skew_seconds: float) -> int:
    """Nonces forgotten: those seen more than twice the freshness window ago."""
    async with uow() as work:
        return await work.routes.purge_nonces(datetime.now(UTC) - timedelta(seconds=2 * max_skew_seconds))
