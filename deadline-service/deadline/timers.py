"""The timer worker: fires warnings and overdue (with the apology) when their time comes.

Each timer is a row with its firing instant, indexed on `fire_at` (only unfired rows), so a tick
reads the timers due now and never scans the open dossiers. A tick claims a batch with
`FOR UPDATE SKIP LOCKED`, emits the events and marks the rows fired in the same transaction:
two replicas never fire the same timer, a crash before commit leaves the timers due, and a
restart fires everything that fell due while the service was down (`fire_at <= now`, not a window).
`POST /admin/tick` runs the same tick at a given instant."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from prometheus_client import Counter
from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from deadline.adapters.tables import apologies, deadlines, dossiers, timers
from deadline.domain.clock import OVERDUE, apology_appointment
from deadline.tracking import Tracker
from services.events import Event
from services.events.schemas import ApologyIssued, DeadlineOverdue, DeadlineWarning
from services.messaging.relay import wait_for

if TYPE_CHECKING:
    from services.runtime import Runtime

log = logging.getLogger(__name__)
TIMERS_FIRED = Counter("motcua_deadline_timers_fired_total", "Deadline timers fired", ["kind"])


@dataclass
class TickResult:
    at: datetime
    fired: int
    warnings: int
    overdue: int
    apologies: int
    stale: int


async def tick(runtime: Runtime, tracker: Tracker, now: datetime, batch: int, min_extension_hours: float) -> TickResult:
    result = TickResult(now, 0, 0, 0, 0, 0)
    while True:
        async with runtime.sessionmaker() as session, session.begin():
            claimed = (
                (
                    await session.execute(
                        select(
                            timers.c.id,
                            timers.c.dossier_id,
                            timers.c.scope,
                            timers.c.step_id,
                            timers.c.kind,
                            timers.c.due_at,
                            deadlines.c.state,
                            deadlines.c.due_at.label("current_due_at"),
                            deadlines.c.agency_code,
                            deadlines.c.agency_name,
                        )
                        .join(
                            deadlines,
                            and_(
                                deadlines.c.dossier_id == timers.c.dossier_id,
                                deadlines.c.scope == timers.c.scope,
                                deadlines.c.step_id == timers.c.step_id,
                            ),
                        )
                        .where(timers.c.fire_at.is_not(None), timers.c.fire_at <= now)
                        .order_by(timers.c.fire_at)
                        .limit(batch)
                        .with_for_update(of=timers, skip_locked=True)
                    )
                )
                .mappings()
                .all()
            )
            if not claimed:
                return result
            await _fire(session, runtime, tracker, claimed, now, min_extension_hours, result)
            await session.execute(
                update(timers).where(timers.c.id.in_([t["id"] for t in claimed])).values(fire_at=None, fired_at=now)
            )
        if len(claimed) < batch:
            return result


async def _fire(
    session: AsyncSession,
    runtime: Runtime,
    tracker: Tracker,
    claimed: Sequence[Any],
    now: datetime,
    min_extension_hours: float,
    result: TickResult,
) -> None:
    events: list[tuple[UUID, Event]] = []
    overdue_keys: list[dict[str, Any]] = []
    apologise: list[Any] = []
    for timer in claimed:
        if timer["state"] != "open" or timer["current_due_at"] != timer["due_at"]:
            result.stale += 1  # the work was done, paused or moved since the timer was armed
            continue
        result.fired += 1
        scope, step_id = timer["scope"], timer["step_id"] or None
        if timer["kind"] != OVERDUE:
            events.append(
                (
                    timer["dossier_id"],
                    DeadlineWarning(
                        scope=scope,
                        step_id=step_id,
                        agency_code=timer["agency_code"],
                        threshold=timer["kind"].removeprefix("warning:"),
                        due_at=timer["due_at"],
                        warned_at=now,
                    ),
                )
            )
            result.warnings += 1
            TIMERS_FIRED.labels("warning").inc()
            continue
        overdue_keys.append({"d": timer["dossier_id"], "s": timer["scope"], "st": timer["step_id"]})
        result.overdue += 1
        TIMERS_FIRED.labels("overdue").inc()
        if scope == "dossier":
            apologise.append(timer)  # the whole dossier is late: its overdue names the agency, then the apology
            continue
        events.append(
            (
                timer["dossier_id"],
                DeadlineOverdue(
                    scope=scope,
                    step_id=step_id,
                    agency_code=timer["agency_code"],
                    agency_name=timer["agency_name"],
                    due_at=timer["due_at"],
                    detected_at=now,
                ),
            )
        )
    if overdue_keys:
        await session.execute(
            update(deadlines)
            .where(
                deadlines.c.dossier_id == bindparam("d"),
                deadlines.c.scope == bindparam("s"),
                deadlines.c.step_id == bindparam("st"),
            )
            .values(overdue_at=now),
            overdue_keys,
        )
    await _emit_all(session, runtime, events)
    for timer in apologise:
        dossier_id = timer["dossier_id"]
        dossier = (
            (await session.execute(select(dossiers).where(dossiers.c.dossier_id == dossier_id).with_for_update()))
            .mappings()
            .first()
        )
        agency_code, agency_name = await _responsible_agency(session, dossier_id, dossier)
        await runtime.outbox.emit(
            session,
            DeadlineOverdue(
                scope="dossier", agency_code=agency_code, agency_name=agency_name, due_at=timer["due_at"], detected_at=now
            ),
            dossier_id=str(dossier_id),
        )
        if dossier is not None:
            await _apologise(session, runtime, tracker, dossier, agency_code, agency_name, now, min_extension_hours)
            result.apologies += 1


async def _emit_all(session: AsyncSession, runtime: Runtime, events: list[tuple[UUID, Event]]) -> None:
    """The outbox rows of many events in one statement (what `Outbox.emit` writes, one by one)."""
    if not events:
        return
    outbox = runtime.outbox
    rows = []
    for dossier_id, event in events:
        envelope = event.envelope(dossier_id=str(dossier_id), producer=outbox.service)
        rows.append(
            {
                "event_id": envelope.event_id,
                "topic": outbox.topic,
                "key": str(dossier_id),
                "message": envelope.model_dump(mode="json"),
                "headers": {},
            }
        )
    await session.execute(insert(outbox.tables.outbox), rows)


async def _responsible_agency(session: AsyncSession, dossier_id: UUID, dossier: Any) -> tuple[str | None, str | None]:
    """The agency whose step is the most overdue now; else the last step that closed late; else
    the receiving unit."""
    steps = (
        (await session.execute(select(deadlines).where(deadlines.c.dossier_id == dossier_id, deadlines.c.scope == "step")))
        .mappings()
        .all()
    )
    open_steps = sorted((s for s in steps if s["state"] in ("open", "paused")), key=lambda s: s["due_at"])
    if open_steps:
        return open_steps[0]["agency_code"], open_steps[0]["agency_name"]
    late = sorted((s for s in steps if s["outcome"] == "late"), key=lambda s: s["completed_at"])
    if late:
        return late[-1]["agency_code"], late[-1]["agency_name"]
    return (dossier["receiving_unit"] if dossier else None), None


async def _apologise(
    session: AsyncSession,
    runtime: Runtime,
    tracker: Tracker,
    dossier: Any,
    agency_code: str | None,
    agency_name: str | None,
    now: datetime,
    min_extension_hours: float,
) -> None:
    """Phiếu xin lỗi và hẹn lại ngày trả kết quả (form 4), issued when the appointment passes."""
    dossier_id = dossier["dossier_id"]
    tracked = {
        s
        for (s,) in (
            await session.execute(
                select(deadlines.c.step_id).where(deadlines.c.dossier_id == dossier_id, deadlines.c.scope == "step")
            )
        ).all()
    }
    open_hours = sum(
        max(0.0, tracker.calendar.working_hours_between(now, due))
        for (due,) in (
            await session.execute(
                select(deadlines.c.due_at).where(
                    deadlines.c.dossier_id == dossier_id, deadlines.c.scope == "step", deadlines.c.state == "open"
                )
            )
        ).all()
    )
    pending = open_hours + sum(step["budget_hours"] for step in dossier["route"] if step["step_id"] not in tracked)
    new_appointment = apology_appointment(tracker.calendar, now, pending, min_extension_hours)
    who = agency_name or agency_code or "cơ quan giải quyết"
    reason = f"Hồ sơ {dossier['dossier_code']} chưa được giải quyết đúng hẹn tại {who}."
    await session.execute(
        insert(apologies).values(
            dossier_id=dossier_id,
            responsible_agency_code=agency_code,
            responsible_agency_name=agency_name,
            reason=reason,
            old_appointment_at=dossier["appointment_at"],
            new_appointment_at=new_appointment,
            issued_at=now,
        )
    )
    await session.execute(update(dossiers).where(dossiers.c.dossier_id == dossier_id).values(appointment_at=new_appointment))
    await runtime.outbox.emit(
        session,
        ApologyIssued(
            responsible_agency_code=agency_code,
            responsible_agency_name=agency_name,
            reason=reason,
            old_appointment_at=dossier["appointment_at"],
            new_appointment_at=new_appointment,
            issued_at=now,
        ),
        dossier_id=str(dossier_id),
    )


def timer_worker(tracker_of: Any) -> Any:
    """The background loop: a tick at the current time every DEADLINE_TICK_INTERVAL_MS."""

    async def run(runtime: Runtime, stop: asyncio.Event) -> None:
        tracker: Tracker = tracker_of(runtime)
        settings = runtime.settings
        while not stop.is_set():
            try:
                result = await tick(
                    runtime, tracker, datetime.now(UTC), settings.tick_batch, settings.apology_min_extension_hours
                )  # type: ignore[attr-defined]
                if result.fired:
                    log.info("tick fired %d timers (%d warnings, %d overdue)", result.fired, result.warnings, result.overdue)
            except Exception:
                log.exception("tick failed; retrying at the next interval")
            await wait_for(stop, settings.tick_interval_ms / 1000)  # type: ignore[attr-defined]

    return run
