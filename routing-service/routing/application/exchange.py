"""The exchange with the other side: steps delivered to agencies' own systems through the LGSP, and
the national portal (DVCQG) kept in step. Both work from a queue written in the same transaction as
the change it carries (so nothing is lost across a crash): a round claims due rows under a lease,
sends each outside any transaction, and records the outcome with its audit record; a failure is
retried after a growing, jittered delay (`services.work_queue.backoff_seconds`) until it gives up,
and a circuit breaker per endpoint spares a system that is down. A portal push waits while an
earlier push of the same dossier is pending, so the portal sees each dossier's phases in order."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from routing.application.ports import AgencySystems, ExchangeError, NationalPortal, Queue, RoutingUnitOfWork
from routing.application.routes import ROUTING, queue_portal_update
from routing.domain.exchange import Breakers, CircuitBreaker
from routing.domain.national import status_code
from services.personal_data.redaction import scrub
from services.work_queue import backoff_seconds

BATCH = 20  # rows claimed per round


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff_base_seconds: float
    backoff_cap_seconds: float
    lease_seconds: float  # a claimed row is not taken again while its attempt may still be running
    breaker_reset_seconds: float


@dataclass(frozen=True)
class Attempt:
    """What one claimed row came to, for the exchange metrics."""

    target: Literal["lgsp", "portal"]
    endpoint: str
    outcome: Literal["delivered", "pushed", "failed", "breaker_open"]
    breaker_open: bool


async def _postpone(uow: RoutingUnitOfWork, queue: Queue, row_id: int, seconds: float) -> None:
    async with uow() as work:
        await work.routes.postpone(queue, row_id, datetime.now(UTC) + timedelta(seconds=seconds))


async def _failed(
    uow: RoutingUnitOfWork, policy: RetryPolicy, queue: Queue, row: dict[str, Any], error: str, kind: str, **detail: Any
) -> None:
    attempts = row["attempts"] + 1
    gave_up = attempts >= policy.max_attempts
    delay = backoff_seconds(attempts, policy.backoff_base_seconds, policy.backoff_cap_seconds)
    async with uow() as work:
        await work.routes.attempt_failed(
            queue,
            row["id"],
            attempts=attempts,
            error=error[:500],
            gave_up=gave_up,
            retry_at=datetime.now(UTC) + timedelta(seconds=delay),
        )
        await work.routes.audit(
            kind, ROUTING, dossier_id=row["dossier_id"], attempt=attempts, error=error[:500], gave_up=gave_up or None, **detail
        )


async def deliver_due(uow: RoutingUnitOfWork, systems: AgencySystems, breakers: Breakers, policy: RetryPolicy) -> list[Attempt]:
    """One round: claim due deliveries, send each to its agency's system, record the outcome."""
    async with uow() as work:
        rows = await work.routes.claim("deliveries", BATCH, policy.lease_seconds)
    attempts: list[Attempt] = []
    for row in rows:
        endpoint = row["endpoint"]
        breaker = breakers[endpoint]
        if not breaker.allow(time.monotonic()):
            attempts.append(Attempt("lgsp", endpoint, "breaker_open", True))
            await _postpone(uow, "deliveries", row["id"], policy.breaker_reset_seconds)
            continue
        request_id = str(row["request_id"])
        detail = {"request_id": request_id, "endpoint": endpoint, "agency_code": row["agency_code"]}
        try:
            answer = await systems.deliver(endpoint, row["payload"], request_id)
        except ExchangeError as exc:
            breaker.failure(time.monotonic())
            attempts.append(Attempt("lgsp", endpoint, "failed", breaker.state(time.monotonic()) != "closed"))
            await _failed(uow, policy, "deliveries", row, str(exc), "lgsp.delivery_failed", step_id=row["step_id"], **detail)
            continue
        breaker.success()
        attempts.append(Attempt("lgsp", endpoint, "delivered", False))
        async with uow() as work:
            await work.routes.delivered(row["id"], attempts=row["attempts"] + 1, answer=answer, at=datetime.now(UTC))
            await work.routes.audit(
                "lgsp.delivered",
                ROUTING,
                dossier_id=row["dossier_id"],
                step_id=row["step_id"],
                attempt=row["attempts"] + 1,
                **detail,
            )
    return attempts


def without_name(error: str, name: str | None) -> str:
    """A failure's text as kept in the queue and the append-only audit log: the portal may echo
    the record it refused, so the applicant's name (and any id, phone or e-mail) is masked."""
    text = scrub(error)
    return text.replace(name, "[ChuHoSo]") if name else text


async def push_due(uow: RoutingUnitOfWork, portal: NationalPortal, breaker: CircuitBreaker, policy: RetryPolicy) -> list[Attempt]:
    """One round: push pending portal updates, each dossier's in order; the portal drops repeats by Idempotency-Key."""
    async with uow() as work:
        rows = await work.routes.claim("portal_pushes", BATCH, policy.lease_seconds)
    url = portal.push_url
    attempts: list[Attempt] = []
    for row in rows:
        if not breaker.allow(time.monotonic()):
            attempts.append(Attempt("portal", url, "breaker_open", True))
            await _postpone(uow, "portal_pushes", row["id"], policy.breaker_reset_seconds)
            continue
        key = f"{row['dossier_id']}-{row['id']}"
        detail = {"request_id": key, "endpoint": url, "status_code": row["status_code"]}
        try:
            await portal.push(key, row["payload"])
        except ExchangeError as exc:
            breaker.failure(time.monotonic())
            attempts.append(Attempt("portal", url, "failed", breaker.state(time.monotonic()) != "closed"))
            error = without_name(str(exc), row["payload"].get("ChuHoSo"))
            await _failed(uow, policy, "portal_pushes", row, error, "portal.push_failed", **detail)
            continue
        breaker.success()
        attempts.append(Attempt("portal", url, "pushed", False))
        async with uow() as work:
            await work.routes.pushed(row["id"], attempts=row["attempts"] + 1, at=datetime.now(UTC))
            await work.routes.audit("portal.pushed", ROUTING, dossier_id=row["dossier_id"], attempt=row["attempts"] + 1, **detail)
    return attempts


async def reconcile_portal(
    uow: RoutingUnitOfWork, portal: NationalPortal, since: timedelta = timedelta(days=30)
) -> dict[str, int]:
    """Look each recently changed dossier up on the portal (TraCuuHoSo); where the portal's status
    differs from ours and nothing is pending, queue a fresh push of the current state. ExchangeError
    when the portal cannot be asked."""
    async with uow.read() as work:
        candidates = await work.routes.reconcile_candidates(datetime.now(UTC) - since)
    checked = requeued = 0
    for dossier in candidates:
        seen = await portal.status_of(dossier["dossier_code"])
        checked += 1
        if seen == status_code(dossier["phase"]):
            continue
        async with uow() as work:
            locked = await work.routes.lock(dossier["dossier_id"])
            if locked is None:
                continue
            await queue_portal_update(work, locked, locked["phase"], datetime.now(UTC))
            await work.routes.audit(
                "portal.reconciled",
                ROUTING,
                dossier_id=dossier["dossier_id"],
                portal_status=seen,
                our_status=int(status_code(locked["phase"])),
            )
        requeued += 1
    return {"checked": checked, "requeued": requeued}
