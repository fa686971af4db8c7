"""The dispatcher: claims due notices, hands each to its channel, records the outcome.

A notice is claimed (status `sending`, with a lease) and committed before it is sent; after a
crash the lease runs out and it is sent again under the same idempotency id, which the SMS
gateway (and the console sink) accept only once. Several replicas claim disjoint batches
(SKIP LOCKED). Within a batch, sends run concurrently (NOTIFY_SEND_CONCURRENCY) and each channel
keeps to its rate limit (messages per second); each outcome is recorded as soon as it is known,
before the slot is given to the next notice. SMS through the gateway wait out the quiet hours."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter
from sqlalchemy import update

from notify.adapters.channels import Channel, Outcome, Outgoing
from notify.adapters.console_sink import ConsoleChannel, ConsoleSink
from notify.adapters.sms_gateway import HttpSmsGateway
from notify.adapters.smtp_mailer import SmtpMailer
from notify.adapters.tables import notices
from notify.domain.policy import Spacing, retry_delay
from notify.settings import NotifySettings
from services.calendar import VN_TZ
from services.db import driver_connection
from services.events.schemas import NoticeFailed, NoticeSent
from services.messaging.relay import wait_for
from services.runtime import Runtime

log = logging.getLogger(__name__)

SEND_OUTCOMES = Counter(
    "motcua_notify_sends_total",
    "Send attempts by channel and outcome (accepted, rejected, transient, held).",
    ["channel", "outcome"],
)

CLAIM = """
    UPDATE notify.notices SET status = 'sending', attempts = attempts + 1,
           next_attempt_at = now() + make_interval(secs => $1)
    WHERE id IN (
        SELECT id FROM notify.notices
        WHERE status IN ('pending', 'sending', 'held') AND next_attempt_at <= now()
        ORDER BY next_attempt_at, created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
    RETURNING id, dossier_id, trigger, channel, recipient, recipient_masked, body, subject, html_body,
              attachment_name, attachment, attempts, resends, created_at
    """
MARK_SENT = """
    UPDATE notify.notices SET status = 'sent', sent_at = $2, gateway_id = $3, provider_message_id = $4, last_error = NULL
    WHERE id = $1 AND status = 'sending' RETURNING id
    """


class RateLimiter:
    """Evenly spaced send slots for one channel, shared by every concurrent send of this process."""

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self.spacing = Spacing(per_second)

    async def wait(self) -> None:
        at = self.spacing.slot(time.monotonic())
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


class Dispatcher:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings: NotifySettings = runtime.settings  # type: ignore[assignment]
        s = self.settings
        console = ConsoleChannel(ConsoleSink(s.sink_path))
        self.gateway_configured = s.sms_gateway_url is not None
        self.channels: dict[str, Channel] = {
            "sms": HttpSmsGateway(s) if s.sms_gateway_url else console,
            "email": SmtpMailer(s) if s.smtp_host else console,
            "console": console,
        }
        console_limit = RateLimiter(1000)
        # A channel that falls back to the console sink is not held to its gateway's rate.
        self.limits: Mapping[str, RateLimiter] = {
            "sms": RateLimiter(s.sms_rate_per_second) if s.sms_gateway_url else console_limit,
            "email": RateLimiter(s.smtp_rate_per_second) if s.smtp_host else console_limit,
            "console": console_limit,
        }
        self.slots = asyncio.Semaphore(s.send_concurrency)

    async def close(self) -> None:
        for channel in {id(c): c for c in self.channels.values()}.values():
            await channel.close()

    def claim_limit(self) -> int:
        """No bigger a batch than the rate limit lets out within half the lease, so no lease runs out in the queue."""
        s = self.settings
        slowest = min(limit.per_second for limit in self.limits.values())
        return max(1, min(s.dispatch_batch, int(slowest * s.sending_lease_seconds / 2)))

    async def dispatch_once(self) -> int:
        async with self.runtime.sessionmaker() as session, session.begin():
            claimed = await (await driver_connection(session)).fetch(
                CLAIM, float(self.settings.sending_lease_seconds), self.claim_limit()
            )
        if claimed:
            # Different dossiers' notices go out concurrently; one dossier's, in the order they arose
            # (a citizen must not read "result ready" before "received").
            by_dossier: dict[Any, list[dict[str, Any]]] = {}
            for notice in sorted(claimed, key=lambda n: n["created_at"]):
                by_dossier.setdefault(notice["dossier_id"], []).append(dict(notice))
            await asyncio.gather(*(self._deliver_in_order(notices) for notices in by_dossier.values()))
        return len(claimed)

    async def _deliver_in_order(self, notices: list[dict[str, Any]]) -> None:
        for notice in notices:
            await self._deliver(notice)

    async def _deliver(self, notice: dict[str, Any]) -> None:
        if notice["channel"] == "sms" and self.gateway_configured and await self._hold_if_quiet(notice):
            return
        async with self.slots:
            await self.limits[notice["channel"]].wait()
            outgoing = Outgoing(
                notice_id=str(notice["id"]),
                idempotency_id=str(notice["id"]) + (f".r{notice['resends']}" if notice["resends"] else ""),
                dossier_id=str(notice["dossier_id"]),
                channel=notice["channel"],
                recipient=notice["recipient"],
                recipient_masked=notice["recipient_masked"],
                body=notice["body"],
                subject=notice["subject"],
                html=notice["html_body"],
                attachment_name=notice["attachment_name"],
                attachment=notice["attachment"],
            )
            try:
                outcome = await self.channels[notice["channel"]].send(outgoing)
            except Exception as exc:  # an adapter bug or an unexpected library error: treat as transient
                log.exception("channel %s raised", notice["channel"])
                outcome = Outcome("transient", f"{type(exc).__name__}: {exc}", code="error")
            SEND_OUTCOMES.labels(notice["channel"], outcome.status).inc()
            await self._record(notice, outgoing, outcome)

    async def _hold_if_quiet(self, notice: dict[str, Any]) -> bool:
        quiet = self.settings.quiet
        release = quiet.release_at(datetime.now(UTC), VN_TZ) if quiet else None
        if release is None:
            return False
        async with self.runtime.sessionmaker() as session, session.begin():
            await session.execute(
                update(notices)
                .where(notices.c.id == notice["id"], notices.c.status == "sending")
                .values(status="held", held_until=release, next_attempt_at=release, attempts=notices.c.attempts - 1)
            )
        SEND_OUTCOMES.labels("sms", "held").inc()
        return True

    async def _record(self, notice: dict[str, Any], outgoing: Outgoing, outcome: Outcome) -> None:
        now = datetime.now(UTC)
        where = (notices.c.id == notice["id"], notices.c.status == "sending")
        async with self.runtime.sessionmaker() as session, session.begin():
            if outcome.status == "accepted":
                marked = await (await driver_connection(session)).fetchrow(
                    MARK_SENT, notice["id"], now, outgoing.idempotency_id, outcome.provider_message_id
                )
                if marked is not None:
                    await self.runtime.outbox.emit(
                        session,
                        NoticeSent(
                            notice_id=outgoing.notice_id,
                            trigger=notice["trigger"],
                            channel=notice["channel"],
                            recipient=notice["recipient_masked"],
                            sent_at=now,
                        ),
                        dossier_id=outgoing.dossier_id,
                    )
                return
            error = f"{outcome.code}: {outcome.detail}" if outcome.code else outcome.detail
            permanent = outcome.status == "rejected"
            if not permanent and notice["attempts"] < self.settings.max_attempts:
                delay = retry_delay(notice["attempts"], self.settings.retry_base_seconds, self.settings.retry_cap_seconds)
                log.warning(
                    "notice %s not sent (attempt %s), retrying in %.1fs: %s", notice["id"], notice["attempts"], delay, error
                )
                await session.execute(
                    update(notices)
                    .where(*where)
                    .values(status="pending", last_error=error[:500], next_attempt_at=now + timedelta(seconds=delay))
                )
                return
            log.error("notice %s failed for good after %s attempts: %s", notice["id"], notice["attempts"], error)
            marked = (
                await session.execute(
                    update(notices)
                    .where(*where)
                    .values(
                        status="failed",
                        last_error=error[:500],
                        permanent=permanent,
                        failed_at=now,
                        gateway_id=outgoing.idempotency_id,
                    )
                    .returning(notices.c.id)
                )
            ).first()
            if marked is not None:
                await self.runtime.outbox.emit(
                    session,
                    NoticeFailed(
                        notice_id=outgoing.notice_id,
                        trigger=notice["trigger"],
                        channel=notice["channel"],
                        recipient=notice["recipient_masked"],
                        error=error[:500],
                        permanent=permanent,
                        failed_at=now,
                    ),
                    dossier_id=outgoing.dossier_id,
                )


async def run_dispatcher(runtime: Runtime, stop: asyncio.Event) -> None:
    settings: NotifySettings = runtime.settings  # type: ignore[assignment]
    dispatcher = Dispatcher(runtime)
    try:
        while not stop.is_set():
            try:
                if await dispatcher.dispatch_once() == 0:
                    await wait_for(stop, settings.dispatch_poll_ms / 1000)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database away: try again shortly
                log.warning("dispatcher interrupted: %s", exc)
                await wait_for(stop, 1.0)
    finally:
        await dispatcher.close()
