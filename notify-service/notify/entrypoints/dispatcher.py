"""The dispatcher: claims pending notices, hands each to its channel, records the outcome.

A notice is claimed (status `sending`, with a lease) and committed before it is sent; after a
crash the lease runs out and it is sent again under the same notice id, which the channel
accepts only once. Several replicas claim disjoint batches (SKIP LOCKED)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import text, update

from notify.adapters.console_sink import ConsoleSink
from notify.adapters.tables import notices
from notify.settings import NotifySettings
from services.events.schemas import NoticeSent
from services.messaging.relay import wait_for
from services.runtime import Runtime

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8

CLAIM = text(
    """
    UPDATE notify.notices SET status = 'sending', attempts = attempts + 1,
           next_attempt_at = now() + make_interval(secs => :lease)
    WHERE id IN (
        SELECT id FROM notify.notices
        WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
        ORDER BY next_attempt_at LIMIT :limit FOR UPDATE SKIP LOCKED)
    RETURNING id, dossier_id, trigger, channel, recipient_masked, body, attempts
    """
)


async def dispatch_once(runtime: Runtime, sink: ConsoleSink) -> int:
    settings: NotifySettings = runtime.settings  # type: ignore[assignment]
    async with runtime.sessionmaker() as session, session.begin():
        claimed = (
            await session.execute(CLAIM, {"lease": settings.sending_lease_seconds, "limit": settings.dispatch_batch})
        ).mappings().all()
    for notice in claimed:
        try:
            await sink.send(
                notice_id=str(notice["id"]),
                dossier_id=str(notice["dossier_id"]),
                channel=notice["channel"],
                recipient_masked=notice["recipient_masked"],
                body=notice["body"],
            )
        except Exception as exc:
            failed = notice["attempts"] >= MAX_ATTEMPTS
            log.warning("notice %s not sent (attempt %s): %s", notice["id"], notice["attempts"], exc)
            async with runtime.sessionmaker() as session, session.begin():
                await session.execute(
                    update(notices)
                    .where(notices.c.id == notice["id"])
                    .values(
                        status="failed" if failed else "pending",
                        last_error=str(exc)[:500],
                        next_attempt_at=text(f"now() + interval '{min(2 ** notice['attempts'], 300)} seconds'"),
                    )
                )
            continue
        sent_at = datetime.now(UTC)
        async with runtime.sessionmaker() as session, session.begin():
            marked = (
                await session.execute(
                    update(notices)
                    .where(notices.c.id == notice["id"], notices.c.status == "sending")
                    .values(status="sent", sent_at=sent_at)
                    .returning(notices.c.id)
                )
            ).first()
            if marked is not None:
                await runtime.outbox.emit(
                    session,
                    NoticeSent(
                        notice_id=str(notice["id"]),
                        trigger=notice["trigger"],
                        channel=notice["channel"],
                        recipient=notice["recipient_masked"],
                        sent_at=sent_at,
                    ),
                    dossier_id=str(notice["dossier_id"]),
                )
    return len(claimed)


async def run_dispatcher(runtime: Runtime, stop: asyncio.Event) -> None:
    settings: NotifySettings = runtime.settings  # type: ignore[assignment]
    sink = ConsoleSink(settings.sink_path)
    while not stop.is_set():
        try:
            if await dispatch_once(runtime, sink) == 0:
                await wait_for(stop, settings.dispatch_poll_ms / 1000)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # database away: try again shortly
            log.warning("dispatcher interrupted: %s", exc)
            await wait_for(stop, 1.0)
