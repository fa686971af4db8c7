"""Sending the notices that are due: claim a batch, hand each to its channel, record the outcome.

A notice is claimed (status `sending`, with a lease) and committed before it is sent; after a
crash the lease runs out and it is claimed again. Such a notice is in doubt (the process may have
died after the channel took it, before the outcome was recorded): its channel is asked first
whether it already took the notice's idempotency id; if it did, the notice is recorded as sent
without being sent again; if it did not, or cannot tell, it is sent again under the same
idempotency id, which the SMS gateway accepts only once.

The lease taken with the batch need not cover the whole batch: right before each send the
notice's claim is renewed for a full lease, so the lease only has to cover one send
(NOTIFY_SENDING_LEASE_SECONDS above the SMTP and SMS timeouts). A notice whose lease ran out while
it waited behind slow sends was claimed again by another replica meanwhile (the renewal finds its
attempt count moved on) and is left to that claim instead of being sent twice. Several replicas
claim disjoint batches (SKIP LOCKED). Within a batch, sends run concurrently
(NOTIFY_SEND_CONCURRENCY) and each channel keeps to its rate limit (messages per second); each
outcome is recorded as soon as it is known, before the slot is given to the next notice. SMS
through the gateway wait out the quiet hours. A transient failure is tried again later
(exponential backoff) up to NOTIFY_MAX_ATTEMPTS; a rejection, or the last attempt, fails the
notice for good and announces `notify.notice_failed`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from prometheus_client import Counter

from notify.application.ports import Acceptance, Channel, DueNotice, NotifyUnitOfWork, Outcome, Outgoing
from notify.domain.policy import Spacing, idempotency_id
from notify.domain.quiet_hours import QuietHours
from services import tracing
from services.events.schemas import NoticeFailed, NoticeSent
from services.personal_data.redaction import describe, scrub
from services.vocabulary import VN_TZ
from services.work_queue import backoff_seconds

log = logging.getLogger(__name__)

SEND_OUTCOMES = Counter(
    "motcua_notify_sends_total",
    "Send attempts by channel and outcome (accepted, rejected, transient, held; already_accepted: a notice in doubt "
    "its channel had taken, recorded as sent without sending it again).",
    ["channel", "outcome"],
)
# Notices failed for good (`notify.notice_failed`): the citizen was not told. permanent="true" when
# the channel refused the notice or the handset was not reached, "false" when the retries ran out.
NOTICES_FAILED = Counter(
    "motcua_notify_notices_failed_total",
    "Notices failed for good by channel (permanent: refused or undelivered, rather than retries exhausted).",
    ["channel", "permanent"],
)
for _channel in ("sms", "email"):
    NOTICES_FAILED.labels(_channel, "true")
    NOTICES_FAILED.labels(_channel, "false")


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


@dataclass(frozen=True)
class Outlet:
    """How one channel's notices leave: the channel, its rate limit, and the hours it keeps quiet."""

    channel: Channel
    limit: RateLimiter
    quiet: QuietHours | None = None


class Outlets:
    """Every channel's outlet, and the number of sends this process runs at once."""

    def __init__(self, outlets: Mapping[str, Outlet], concurrency: int) -> None:
        self.outlets = dict(outlets)
        self.slots = asyncio.Semaphore(concurrency)

    def __getitem__(self, channel: str) -> Outlet:
        return self.outlets[channel]

    def claim_limit(self, batch: int, lease_seconds: float) -> int:
        """No bigger a batch than the rate limit lets out within half the lease, so no lease runs out in the queue."""
        slowest = min(outlet.limit.per_second for outlet in self.outlets.values())
        return max(1, min(batch, int(slowest * lease_seconds / 2)))

    async def close(self) -> None:
        for channel in {id(o.channel): o.channel for o in self.outlets.values()}.values():
            await channel.close()


@dataclass(frozen=True)
class Retries:
    """How often, and how far apart, a notice that failed for now is tried again."""

    max_attempts: int
    base_seconds: float
    cap_seconds: float


async def dispatch_once(uow: NotifyUnitOfWork, outlets: Outlets, *, batch: int, lease_seconds: float, retries: Retries) -> int:
    """One round of the dispatcher: the number of notices it claimed."""
    async with uow() as work:
        claimed = await work.notices.claim_due(outlets.claim_limit(batch, lease_seconds), lease_seconds)
    if claimed:
        # Different dossiers' notices go out concurrently; one dossier's, in the order they arose
        # (a citizen must not read "result ready" before "received").
        by_dossier: dict[UUID, list[DueNotice]] = {}
        for notice in sorted(claimed, key=lambda n: n.created_at):
            by_dossier.setdefault(notice.dossier_id, []).append(notice)
        await asyncio.gather(
            *(_deliver_in_order(uow, outlets, retries, lease_seconds, notices) for notices in by_dossier.values())
        )
    return len(claimed)


async def _deliver_in_order(
    uow: NotifyUnitOfWork, outlets: Outlets, retries: Retries, lease_seconds: float, notices: list[DueNotice]
) -> None:
    for notice in notices:
        await _deliver(uow, outlets, retries, lease_seconds, notice)


async def _deliver(uow: NotifyUnitOfWork, outlets: Outlets, retries: Retries, lease_seconds: float, notice: DueNotice) -> None:
    # With tracing on, in the trace the notice was recorded in: the dossier's, from the counter on.
    attributes = {"motcua.dossier_id": str(notice.dossier_id), "motcua.notice.id": str(notice.id)}
    attributes |= {"motcua.notice.trigger": notice.trigger, "motcua.notice.attempt": notice.attempts}
    with tracing.resumed(f"deliver {notice.channel} notice", notice.traceparent, attributes):
        await _deliver_notice(uow, outlets, retries, lease_seconds, notice)


async def _deliver_notice(
    uow: NotifyUnitOfWork, outlets: Outlets, retries: Retries, lease_seconds: float, notice: DueNotice
) -> None:
    outlet = outlets[notice.channel]
    outgoing = Outgoing(
        notice_id=str(notice.id),
        idempotency_id=idempotency_id(str(notice.id), notice.resends),
        dossier_id=str(notice.dossier_id),
        trigger=notice.trigger,
        channel=notice.channel,
        recipient=notice.recipient,
        recipient_masked=notice.recipient_masked,
        body=notice.body,
        subject=notice.subject,
        html=notice.html_body,
        attachment_name=notice.attachment_name,
        attachment=notice.attachment,
    )
    # Asked before the quiet hours are: a notice held till morning would no longer be in doubt.
    if notice.in_doubt and await already_accepted(outlet.channel, outgoing) == "yes":
        log.info("notice %s in doubt was already accepted by its channel: recorded as sent", notice.id)
        SEND_OUTCOMES.labels(notice.channel, "already_accepted").inc()
        await record_outcome(uow, notice, outgoing, Outcome.accepted(), retries)
        return
    release = outlet.quiet.release_at(datetime.now(UTC), VN_TZ) if outlet.quiet is not None else None
    if release is not None:
        async with uow() as work:
            await work.notices.hold_until(notice.id, release)
        SEND_OUTCOMES.labels(notice.channel, "held").inc()
        return
    async with outlets.slots:
        await outlet.limit.wait()
        async with uow() as work:  # the lease now covers this send, however long the ones before it took
            ours = await work.notices.renew_claim(notice.id, notice.attempts, lease_seconds)
        if not ours:
            log.info("notice %s was claimed again while it waited: left to that claim", notice.id)
            return
        try:
            outcome = await outlet.channel.send(outgoing)
        except Exception as exc:  # an adapter bug or an unexpected library error: treat as transient
            log.exception("channel %s raised", notice.channel)
            outcome = Outcome("transient", describe(exc), code="error")
        SEND_OUTCOMES.labels(notice.channel, outcome.status).inc()
        await record_outcome(uow, notice, outgoing, outcome, retries)


def failure_text(error: str, recipient: str, masked: str) -> str:
    """What is kept and logged of a channel's error: never the recipient (a gateway may echo the
    phone or address it refused), nor anything shaped like a phone, e-mail or citizen id."""
    if recipient:
        error = error.replace(recipient, masked)
    return scrub(error)[:500]


async def already_accepted(channel: Channel, notice: Outgoing) -> Acceptance:
    """The channel's answer for a notice in doubt; "unknown" when asking fails (it is then sent
    again under the same idempotency id, as before the question was asked)."""
    try:
        return await channel.already_accepted(notice)
    except Exception:
        log.exception("asking channel %s about notice %s failed", notice.channel, notice.notice_id)
        return "unknown"


async def record_outcome(
    uow: NotifyUnitOfWork, notice: DueNotice, outgoing: Outgoing, outcome: Outcome, retries: Retries
) -> None:
    """Sent (announced), to be tried again later, or failed for good (announced). A notice whose
    lease ran out and was claimed again meanwhile is left to the later claim."""
    now = datetime.now(UTC)
    async with uow() as work:
        if outcome.status == "accepted":
            if await work.notices.mark_sent(notice.id, now, outgoing.idempotency_id, outcome.provider_message_id):
                sent = NoticeSent(
                    notice_id=outgoing.notice_id,
                    trigger=notice.trigger,
                    channel=notice.channel,
                    recipient=notice.recipient_masked,
                    sent_at=now,
                )
                await work.events.emit(sent, dossier_id=outgoing.dossier_id)
            return
        error = failure_text(outcome.error, notice.recipient, notice.recipient_masked)
        permanent = outcome.status == "rejected"
        if not permanent and notice.attempts < retries.max_attempts:
            delay = backoff_seconds(notice.attempts, retries.base_seconds, retries.cap_seconds)
            log.warning("notice %s not sent (attempt %s), retrying in %.1fs: %s", notice.id, notice.attempts, delay, error)
            await work.notices.retry_at(notice.id, error, now + timedelta(seconds=delay))
            return
        log.error("notice %s failed for good after %s attempts: %s", notice.id, notice.attempts, error)
        if await work.notices.mark_failed(
            notice.id, error=error, permanent=permanent, at=now, gateway_id=outgoing.idempotency_id
        ):
            failed = NoticeFailed(
                notice_id=outgoing.notice_id,
                trigger=notice.trigger,
                channel=notice.channel,
                recipient=notice.recipient_masked,
                error=error,
                permanent=permanent,
                failed_at=now,
            )
            await work.events.emit(failed, dossier_id=outgoing.dossier_id)
            NOTICES_FAILED.labels(notice.channel, str(permanent).lower()).inc()
