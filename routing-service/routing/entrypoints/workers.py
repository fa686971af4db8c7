"""Background exchange: delivering steps to agencies' systems through the LGSP, and keeping the
national portal (DVCQG) in step. Both read a table written in the same transaction as the state
change (so nothing is lost across a crash), retry with backoff and jitter behind a circuit
breaker per endpoint, and log every attempt in the audit log."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from prometheus_client import Counter, Gauge
from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.orm import aliased

from routing.adapters import audit
from routing.adapters.exchange import ExchangeError, TokenSource, post_bound
from routing.adapters.tables import deliveries, dossiers, inbound_nonces, portal_pushes
from routing.domain.exchange import CircuitBreaker
from routing.domain.national import status_code
from routing.handling import Routing
from routing.settings import RoutingSettings
from services.messaging.relay import wait_for
from services.runtime import Runtime
from services.work_queue import backoff_seconds

log = logging.getLogger(__name__)

BATCH = 20
EXCHANGES = Counter("motcua_routing_exchanges_total", "Outbound exchanges by target and outcome.", ["target", "outcome"])
BREAKER_OPEN = Gauge("motcua_routing_breaker_open", "1 while the circuit breaker of an endpoint is open.", ["endpoint"])


class Breakers:
    def __init__(self, settings: RoutingSettings) -> None:
        self.settings = settings
        self.by_endpoint: dict[str, CircuitBreaker] = {}

    def __getitem__(self, endpoint: str) -> CircuitBreaker:
        return self.by_endpoint.setdefault(
            endpoint, CircuitBreaker(self.settings.breaker_threshold, self.settings.breaker_reset_seconds)
        )


def _lease(settings: RoutingSettings) -> timedelta:
    """A claimed row is not picked again while its attempt may still be running (or if the process died mid-attempt, after this)."""
    return timedelta(seconds=settings.exchange_timeout_seconds * 3 + 5)


async def _failed(runtime: Runtime, table: Any, row: Any, error: str, kind: str, **detail: Any) -> None:
    settings: RoutingSettings = runtime.settings  # type: ignore[assignment]
    attempts = row["attempts"] + 1
    final = attempts >= settings.exchange_max_attempts
    delay = backoff_seconds(attempts, settings.exchange_backoff_base_seconds, settings.exchange_backoff_cap_seconds)
    async with runtime.sessionmaker() as session, session.begin():
        await session.execute(
            update(table)
            .where(table.c.id == row["id"])
            .values(
                attempts=attempts,
                last_error=error[:500],
                state="failed" if final else "pending",
                next_attempt_at=datetime.now(UTC) + timedelta(seconds=delay),
            )
        )
        await audit.append(
            session,
            kind,
            "routing-service",
            dossier_id=row["dossier_id"],
            attempt=attempts,
            error=error[:500],
            gave_up=final or None,
            **detail,
        )


async def _postpone(runtime: Runtime, table: Any, row_id: int, seconds: float) -> None:
    async with runtime.sessionmaker() as session, session.begin():
        await session.execute(
            update(table).where(table.c.id == row_id).values(next_attempt_at=datetime.now(UTC) + timedelta(seconds=seconds))
        )


# ---------------------------------------------------------------- LGSP outbound


async def deliver_due(runtime: Runtime, client: httpx.AsyncClient, token_source: TokenSource | None, breakers: Breakers) -> int:
    """One round: claim due deliveries, send each, record the outcome. Returns how many were tried."""
    settings: RoutingSettings = runtime.settings  # type: ignore[assignment]
    async with runtime.sessionmaker() as session, session.begin():
        rows = (
            (
                await session.execute(
                    select(deliveries)
                    .where(deliveries.c.state == "pending", deliveries.c.next_attempt_at <= datetime.now(UTC))
                    .order_by(deliveries.c.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            .mappings()
            .all()
        )
        if rows:
            await session.execute(
                update(deliveries)
                .where(deliveries.c.id.in_([r["id"] for r in rows]))
                .values(next_attempt_at=datetime.now(UTC) + _lease(settings))
            )
    for row in rows:
        breaker = breakers[row["endpoint"]]
        if not breaker.allow(time.monotonic()):
            EXCHANGES.labels("lgsp", "breaker_open").inc()
            await _postpone(runtime, deliveries, row["id"], settings.breaker_reset_seconds)
            continue
        request_id = str(row["request_id"])
        detail = {"request_id": request_id, "endpoint": row["endpoint"], "agency_code": row["agency_code"]}
        try:
            headers = {"Authorization": f"Bearer {await token_source.get()}"} if token_source else {}
            answer = await post_bound(client, row["endpoint"], row["payload"], request_id, headers)
        except ExchangeError as exc:
            breaker.failure(time.monotonic())
            BREAKER_OPEN.labels(row["endpoint"]).set(breaker.state(time.monotonic()) != "closed")
            EXCHANGES.labels("lgsp", "failed").inc()
            if token_source and "HTTP 401" in str(exc):
                token_source.forget()
            await _failed(runtime, deliveries, row, str(exc), "lgsp.delivery_failed", step_id=row["step_id"], **detail)
            continue
        breaker.success()
        BREAKER_OPEN.labels(row["endpoint"]).set(0)
        EXCHANGES.labels("lgsp", "delivered").inc()
        async with runtime.sessionmaker() as session, session.begin():
            await session.execute(
                update(deliveries)
                .where(deliveries.c.id == row["id"])
                .values(
                    state="delivered",
                    attempts=row["attempts"] + 1,
                    delivered_at=datetime.now(UTC),
                    response=answer,
                    last_error=None,
                )
            )
            await audit.append(
                session,
                "lgsp.delivered",
                "routing-service",
                dossier_id=row["dossier_id"],
                step_id=row["step_id"],
                attempt=row["attempts"] + 1,
                **detail,
            )
    return len(rows)


async def forget_old_nonces(runtime: Runtime) -> None:
    """A nonce older than the freshness window cannot be replayed (its timestamp is stale), so it need not be kept."""
    settings: RoutingSettings = runtime.settings  # type: ignore[assignment]
    async with runtime.sessionmaker() as session, session.begin():
        await session.execute(
            delete(inbound_nonces).where(
                inbound_nonces.c.seen_at < datetime.now(UTC) - timedelta(seconds=2 * settings.inbound_max_skew_seconds)
            )
        )


async def deliver_steps(runtime: Runtime, stop: asyncio.Event) -> None:
    settings: RoutingSettings = runtime.settings  # type: ignore[assignment]
    breakers = Breakers(settings)
    last_cleanup = time.monotonic()
    async with httpx.AsyncClient(timeout=settings.exchange_timeout_seconds) as client:
        token_source = (
            TokenSource(client, settings.lgsp_token_url, settings.lgsp_client_id or "", settings.lgsp_client_secret or "")
            if settings.lgsp_token_url
            else None
        )
        while not stop.is_set():
            tried = 0
            try:
                tried = await deliver_due(runtime, client, token_source, breakers)
                if time.monotonic() - last_cleanup > settings.inbound_max_skew_seconds:
                    last_cleanup = time.monotonic()
                    await forget_old_nonces(runtime)
            except Exception as exc:  # the database away: nothing is lost, the rows wait
                log.warning("LGSP delivery round failed: %s", exc)
            if not tried:
                await wait_for(stop, settings.exchange_poll_seconds)


# ---------------------------------------------------------------- national portal


def _portal_headers(settings: RoutingSettings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.portal_token}"} if settings.portal_token else {}


async def push_due(runtime: Runtime, client: httpx.AsyncClient, breaker: CircuitBreaker) -> int:
    """Push pending portal updates, each dossier's in order; the portal drops repeats by Idempotency-Key."""
    settings: RoutingSettings = runtime.settings  # type: ignore[assignment]
    earlier = aliased(portal_pushes)
    async with runtime.sessionmaker() as session, session.begin():
        rows = (
            (
                await session.execute(
                    select(portal_pushes)
                    .where(
                        portal_pushes.c.state == "pending",
                        portal_pushes.c.next_attempt_at <= datetime.now(UTC),
                        ~exists().where(
                            and_(
                                earlier.c.dossier_id == portal_pushes.c.dossier_id,
                                earlier.c.state == "pending",
                                earlier.c.id < portal_pushes.c.id,
                            )
                        ),
                    )
                    .order_by(portal_pushes.c.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True, of=portal_pushes)
                )
            )
            .mappings()
            .all()
        )
        if rows:
            await session.execute(
                update(portal_pushes)
                .where(portal_pushes.c.id.in_([r["id"] for r in rows]))
                .values(next_attempt_at=datetime.now(UTC) + _lease(settings))
            )
    url = f"{settings.portal_url}/DongBoHoSoMC"
    for row in rows:
        if not breaker.allow(time.monotonic()):
            EXCHANGES.labels("portal", "breaker_open").inc()
            await _postpone(runtime, portal_pushes, row["id"], settings.breaker_reset_seconds)
            continue
        key = f"{row['dossier_id']}-{row['id']}"
        detail = {"request_id": key, "endpoint": url, "status_code": row["status_code"]}
        try:
            await post_bound(
                client,
                url,
                {"request_id": key, "HoSo": row["payload"]},
                key,
                {**_portal_headers(settings), "Idempotency-Key": key},
            )
        except ExchangeError as exc:
            breaker.failure(time.monotonic())
            BREAKER_OPEN.labels(url).set(breaker.state(time.monotonic()) != "closed")
            EXCHANGES.labels("portal", "failed").inc()
            await _failed(runtime, portal_pushes, row, str(exc), "portal.push_failed", **detail)
            continue
        breaker.success()
        BREAKER_OPEN.labels(url).set(0)
        EXCHANGES.labels("portal", "pushed").inc()
        async with runtime.sessionmaker() as session, session.begin():
            await session.execute(
                update(portal_pushes)
                .where(portal_pushes.c.id == row["id"])
                .values(state="pushed", attempts=row["attempts"] + 1, pushed_at=datetime.now(UTC), last_error=None)
            )
            await audit.append(
                session, "portal.pushed", "routing-service", dossier_id=row["dossier_id"], attempt=row["attempts"] + 1, **detail
            )
    return len(rows)


async def reconcile_portal(runtime: Runtime, client: httpx.AsyncClient, since: timedelta = timedelta(days=30)) -> dict[str, int]:
    """Look each recent dossier up on the portal (TraCuuHoSo); where the portal's status differs from
    ours and nothing is pending, queue a fresh push of the current state."""
    settings: RoutingSettings = runtime.settings  # type: ignore[assignment]
    routing = Routing(runtime)
    async with runtime.sessionmaker() as session:
        candidates = (
            (
                await session.execute(
                    select(dossiers).where(
                        dossiers.c.updated_at >= datetime.now(UTC) - since,
                        ~exists().where(
                            and_(portal_pushes.c.dossier_id == dossiers.c.dossier_id, portal_pushes.c.state == "pending")
                        ),
                    )
                )
            )
            .mappings()
            .all()
        )
    checked = requeued = 0
    for dossier in candidates:
        try:
            response = await client.get(
                f"{settings.portal_url}/TraCuuHoSo", params={"MaHoSo": dossier["dossier_code"]}, headers=_portal_headers(settings)
            )
        except httpx.HTTPError as exc:
            raise ExchangeError(f"portal look-up failed: {type(exc).__name__}") from exc
        if response.status_code not in (200, 404):
            raise ExchangeError(f"portal look-up answered {response.status_code}")
        checked += 1
        seen = response.json().get("TrangThaiHoSo") if response.status_code == 200 else None
        if seen == status_code(dossier["phase"]):
            continue
        async with runtime.sessionmaker() as session, session.begin():
            locked = await routing.lock_dossier(session, dossier["dossier_id"])
            if locked is None:
                continue
            await routing.queue_portal_update(session, locked, locked["phase"], datetime.now(UTC))
            await audit.append(
                session,
                "portal.reconciled",
                "routing-service",
                dossier_id=dossier["dossier_id"],
                portal_status=seen,
                our_status=status_code(locked["phase"]),
            )
        requeued += 1
    return {"checked": checked, "requeued": requeued}


async def sync_portal(runtime: Runtime, stop: asyncio.Event) -> None:
    settings: RoutingSettings = runtime.settings  # type: ignore[assignment]
    if not settings.portal_url:
        return
    breaker = CircuitBreaker(settings.breaker_threshold, settings.breaker_reset_seconds)
    last_reconcile = time.monotonic()
    async with httpx.AsyncClient(timeout=settings.exchange_timeout_seconds) as client:
        while not stop.is_set():
            tried = 0
            try:
                tried = await push_due(runtime, client, breaker)
                if (
                    time.monotonic() - last_reconcile >= settings.portal_reconcile_seconds
                    and breaker.state(time.monotonic()) == "closed"
                ):
                    last_reconcile = time.monotonic()
                    await reconcile_portal(runtime, client)
            except Exception as exc:
                log.warning("national portal sync round failed: %s", exc)
            if not tried:
                await wait_for(stop, settings.exchange_poll_seconds)
