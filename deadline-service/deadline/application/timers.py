"""The tick: fires the warnings and the overdue checks whose time has come, and issues the apology
(Phiếu xin lỗi và hẹn lại ngày trả kết quả, form 4) when a whole dossier is late.

Each timer is a row with its firing instant, so a tick reads the timers due now and never the open
dossiers. A tick claims a batch (skipping what another replica holds), emits the events and marks
the timers fired in one transaction: two replicas never fire the same timer, a crash before commit
leaves the timers due, and a restart fires everything that fell due while the service was down
(`fire_at <= now`, not a window). The timer worker ticks at the current time; `POST /admin/tick`
at a given instant, never one still to come (a tick in the future would send warnings, overdue
notices and apologies for time that has not passed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from deadline.application.ports import DeadlineUnitOfWork, DeadlineWork, Row
from deadline.domain.clock import OVERDUE, TICK_CLOCK_SKEW, ClockRules, apology_appointment, tick_in_the_future
from deadline.domain.tracking import DeadlineState, apology_reason, pending_hours, responsible_agency
from services.events import Event
from services.events.schemas import ApologyIssued, DeadlineOverdue, DeadlineWarning
from services.problems import field_error, invalid


@dataclass
class TickResult:
    at: datetime
    fired: int
    warnings: int
    overdue: int
    apologies: int
    stale: int


async def fire_due_timers(
    uow: DeadlineUnitOfWork, rules: ClockRules, now: datetime, *, batch: int, min_extension_hours: float
) -> TickResult:
    """Fire every timer due at `now`, `batch` per transaction."""
    result = TickResult(now, 0, 0, 0, 0, 0)
    while True:
        async with uow() as work:
            claimed = await work.deadlines.claim_due_timers(now, batch)
            if not claimed:
                return result
            await _fire(work, rules, claimed, now, min_extension_hours, result)
            await work.deadlines.mark_fired([t["id"] for t in claimed], now)
        if len(claimed) < batch:
            return result


async def operator_tick(
    uow: DeadlineUnitOfWork,
    rules: ClockRules,
    at: datetime | None,
    now: datetime,
    *,
    batch: int,
    min_extension_hours: float,
) -> TickResult:
    """The operator's tick at `at` (default: now). An instant later than now (beyond a few seconds
    of clock skew) is refused with 422 naming `at`, before anything is fired."""
    if at is not None and tick_in_the_future(at, now):
        seconds = int(TICK_CLOCK_SKEW.total_seconds())
        raise invalid([field_error("at", f"must not be later than now (give or take {seconds} s)", "in_the_future")])
    return await fire_due_timers(uow, rules, at or now, batch=batch, min_extension_hours=min_extension_hours)


async def _fire(
    work: DeadlineWork, rules: ClockRules, claimed: list[Row], now: datetime, min_extension_hours: float, result: TickResult
) -> None:
    events: list[tuple[str, Event]] = []
    overdue: list[tuple[UUID, str, str]] = []
    late_dossiers: list[Row] = []
    for timer in claimed:
        if timer["state"] != DeadlineState.OPEN or timer["current_due_at"] != timer["due_at"]:
            result.stale += 1  # the work was done, paused or moved since the timer was armed
            continue
        result.fired += 1
        dossier_id, scope, step_id = timer["dossier_id"], timer["scope"], timer["step_id"] or None
        if timer["kind"] != OVERDUE:
            result.warnings += 1
            warning = DeadlineWarning(
                scope=scope,
                step_id=step_id,
                agency_code=timer["agency_code"],
                threshold=timer["kind"].removeprefix("warning:"),
                due_at=timer["due_at"],
                warned_at=now,
            )
            events.append((str(dossier_id), warning))
            continue
        result.overdue += 1
        overdue.append((dossier_id, timer["scope"], timer["step_id"]))
        if scope == "dossier":
            late_dossiers.append(timer)  # the whole dossier is late: its overdue names the agency, then the apology
            continue
        step_overdue = DeadlineOverdue(
            scope=scope,
            step_id=step_id,
            agency_code=timer["agency_code"],
            agency_name=timer["agency_name"],
            due_at=timer["due_at"],
            detected_at=now,
        )
        events.append((str(dossier_id), step_overdue))
    await work.deadlines.mark_overdue(overdue, now)
    await work.events.emit_many(events)
    for timer in late_dossiers:
        if await apologise(work, rules, timer["dossier_id"], timer["due_at"], now, min_extension_hours):
            result.apologies += 1


async def apologise(
    work: DeadlineWork, rules: ClockRules, dossier_id: UUID, due_at: datetime, now: datetime, min_extension_hours: float
) -> bool:
    """The dossier's appointment passed: announce it overdue, naming the agency it is late at, and
    issue the apology (form 4) with the reason and a new appointment that gives the steps not done
    yet their time (never less than `min_extension_hours`). False when the dossier is not tracked."""
    dossier = await work.deadlines.lock_dossier(dossier_id)
    steps = await work.deadlines.steps(dossier_id)
    agency_code, agency_name = responsible_agency(steps, dossier["receiving_unit"] if dossier else None)
    await work.events.emit(
        DeadlineOverdue(scope="dossier", agency_code=agency_code, agency_name=agency_name, due_at=due_at, detected_at=now),
        dossier_id=str(dossier_id),
    )
    if dossier is None:
        return False
    pending = pending_hours(rules.calendar, now, steps, dossier["route"])
    new_appointment = apology_appointment(rules.calendar, now, pending, min_extension_hours)
    apology = ApologyIssued(
        responsible_agency_code=agency_code,
        responsible_agency_name=agency_name,
        reason=apology_reason(dossier["dossier_code"], agency_code, agency_name),
        old_appointment_at=dossier["appointment_at"],
        new_appointment_at=new_appointment,
        issued_at=now,
    )
    await work.deadlines.add_apology({"dossier_id": dossier_id, **apology.model_dump()})
    await work.deadlines.update_dossier(dossier_id, {"appointment_at": new_appointment})
    await work.events.emit(apology, dossier_id=str(dossier_id))
    return True
