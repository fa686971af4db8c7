"""Forgetting what has served its time: look-up counters of past windows, Idempotency-Keys and
LGSP nonces older than the time a retry may still come."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from intake.application.ports import IntakeUnitOfWork


async def purge_expired(uow: IntakeUnitOfWork, *, lookup_window_seconds: int, claims_ttl_hours: int) -> tuple[int, int]:
    """(look-up windows, Idempotency-Keys) forgotten."""
    now = datetime.now(UTC)
    async with uow() as work:
        return await work.dossiers.purge(
            lookups_before=now - timedelta(seconds=lookup_window_seconds), claims_before=now - timedelta(hours=claims_ttl_hours)
        )
