"""What happens to a dossier's due times, inside the transaction of the event that caused it: the
clock starts at the receipt and at each step, stops while the citizen is awaited and starts again,
each due time closes classed early / on time / late (trước hạn / đúng hạn / quá hạn), and tracking
ends on a refusal or a withdrawal. Each due time running has its timers armed (the warnings before
it passes, the overdue check when it does); whatever stops it disarms them.

Every use case takes the work bound to the transaction and the envelope that caused it: the events
it announces name that envelope as their cause."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from deadline.application.ports import DeadlineWork, Row
from deadline.domain.clock import ClockRules, classify, remaining_hours, resumed_due
from deadline.domain.tracking import LIVE, TRACKING, DeadlineState, DossierState, Ending, Scope, steps_first
from services.events import Envelope
from services.events.schemas import (
    ClockPaused,
    ClockResumed,
    DeadlineClosed,
    DeadlineTracked,
    DossierReceived,
    PausedStatus,
    StepAssigned,
)

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- the clock starts


async def track_dossier(work: DeadlineWork, rules: ClockRules, cause: Envelope, event: DossierReceived) -> None:
    """Giấy tiếp nhận hồ sơ và hẹn trả kết quả: the whole dossier is due at its appointment, counted
    from when working time starts (after the cut-off or office hours). Once per dossier."""
    dossier_id = UUID(cause.dossier_id)
    added = await work.deadlines.add_dossier(
        dict(
            dossier_id=dossier_id,
            dossier_code=event.dossier_code,
            procedure_code=event.procedure_code,
            procedure_name=event.procedure_name,
            field_code=event.field_code,
            channel=event.channel,
            fully_online=event.fully_online,
            receiving_unit=event.receiving_unit,
            received_at=event.received_at,
            budget_hours=event.budget_hours,
            resume_rule=event.resume_rule,
            route=[step.model_dump(mode="json") for step in event.route],
            state=DossierState.RUNNING,
            due_at=event.appointment_at,
            appointment_at=event.appointment_at,
        )
    )
    if not added:
        return
    await _track(
        work,
        rules,
        cause,
        scope="dossier",
        step_id="",
        agency_code=None,
        agency_name=None,
        started_at=event.clock_starts_at,
        due_at=event.appointment_at,
        budget_hours=event.budget_hours,
    )


async def start_step_clock(work: DeadlineWork, rules: ClockRules, cause: Envelope, event: StepAssigned) -> None:
    """A step reaches its agency: its own budget counts from the next working instant."""
    started = rules.calendar.clock_start(event.assigned_at)
    await _track(
        work,
        rules,
        cause,
        scope="step",
        step_id=event.step_id,
        agency_code=event.agency_code,
        agency_name=event.agency_name,
        started_at=started,
        due_at=rules.calendar.add_working_hours(started, event.budget_hours),
        budget_hours=event.budget_hours,
    )


async def _track(
    work: DeadlineWork,
    rules: ClockRules,
    cause: Envelope,
    *,
    scope: Scope,
    step_id: str,
    agency_code: str | None,
    agency_name: str | None,
    started_at: datetime,
    due_at: datetime,
    budget_hours: float,
) -> None:
    dossier_id = UUID(cause.dossier_id)
    added = await work.deadlines.add_deadline(
        dict(
            dossier_id=dossier_id,
            scope=scope,
            step_id=step_id,
            agency_code=agency_code,
            agency_name=agency_name,
            started_at=started_at,
            due_at=due_at,
            budget_hours=budget_hours,
            state=DeadlineState.OPEN,
        )
    )
    if not added:
        return
    await _arm(work, rules, dossier_id, scope, step_id, started_at, due_at, budget_hours)
    await work.events.emit(
        DeadlineTracked(
            scope=scope,
            step_id=step_id or None,
            agency_code=agency_code,
            started_at=started_at,
            due_at=due_at,
            budget_hours=budget_hours,
        ),
        dossier_id=cause.dossier_id,
        causation=cause,
    )


async def _arm(
    work: DeadlineWork,
    rules: ClockRules,
    dossier_id: UUID,
    scope: str,
    step_id: str,
    started_at: datetime,
    due_at: datetime,
    budget_hours: float,
) -> None:
    await work.deadlines.arm(
        [
            {"dossier_id": dossier_id, "scope": scope, "step_id": step_id, "kind": kind, "due_at": due_at, "fire_at": fire_at}
            for kind, fire_at in rules.timers(started_at, due_at, budget_hours)
        ]
    )


# ---------------------------------------------------------------- the clock stops for good


async def close_step(work: DeadlineWork, cause: Envelope, step_id: str, completed_at: datetime) -> None:
    """The agency finished its step: the step is classed against its due time."""
    row = await work.deadlines.lock_deadline(UUID(cause.dossier_id), "step", step_id)
    if row is None or row["state"] not in LIVE:
        return
    await _close(work, cause, row, completed_at)


async def close_dossier(work: DeadlineWork, cause: Envelope, completed_at: datetime) -> None:
    """The result is ready: every due time still running closes (the steps, then the dossier) and
    the dossier is resolved, classed against what it was due at."""
    dossier_id = UUID(cause.dossier_id)
    dossier = await work.deadlines.lock_dossier(dossier_id)
    if dossier is None or dossier["state"] not in TRACKING:
        return
    live = await work.deadlines.lock_deadlines(dossier_id, LIVE)
    outcome = classify(completed_at, dossier["due_at"])
    for row in steps_first(live):
        await _close(work, cause, row, completed_at)
    await work.deadlines.update_dossier(
        dossier_id, {"state": DossierState.RESOLVED, "ended_at": completed_at, "outcome": outcome, "paused_status": None}
    )
    await work.deadlines.end_open_pauses(dossier_id, completed_at)


async def _close(work: DeadlineWork, cause: Envelope, row: Row, completed_at: datetime) -> None:
    outcome = classify(completed_at, row["due_at"])
    dossier_id, scope, step_id = row["dossier_id"], row["scope"], row["step_id"]
    await work.deadlines.update_deadline(
        dossier_id,
        scope,
        step_id,
        {"state": DeadlineState.CLOSED, "completed_at": completed_at, "outcome": outcome, "remaining_hours": None},
    )
    await work.deadlines.disarm(dossier_id, scope, step_id)
    await work.events.emit(
        DeadlineClosed(
            scope=scope,
            step_id=step_id or None,
            agency_code=row["agency_code"],
            due_at=row["due_at"],
            completed_at=completed_at,
            outcome=outcome,
        ),
        dossier_id=str(dossier_id),
        causation=cause,
    )


async def transfer_step(work: DeadlineWork, cause: Envelope, step_id: str, agency_code: str, agency_name: str) -> None:
    """Chuyển hồ sơ đến cơ quan có thẩm quyền: the step's time runs on, now at another agency."""
    await work.deadlines.transfer_step(UUID(cause.dossier_id), step_id, agency_code, agency_name)


async def end_tracking(work: DeadlineWork, cause: Envelope, ending: Ending, at: datetime) -> None:
    """Refused (status 3) or withdrawn (status 7): tracking ends, nothing is classed."""
    dossier_id = UUID(cause.dossier_id)
    dossier = await work.deadlines.lock_dossier(dossier_id)
    if dossier is None or dossier["state"] not in TRACKING:
        return
    await work.deadlines.cancel_deadlines(dossier_id, at)
    await work.deadlines.disarm(dossier_id)
    await work.deadlines.update_dossier(dossier_id, {"state": ending, "ended_at": at, "paused_status": None})
    await work.deadlines.end_open_pauses(dossier_id, at)


# ---------------------------------------------------------------- pause and resume


async def pause_clock(
    work: DeadlineWork,
    rules: ClockRules,
    cause: Envelope,
    status: PausedStatus,
    at: datetime,
    *,
    requested_by: str | None,
    step_id: str | None,
) -> None:
    """Statuses 5 (supplement requested), 6 (awaiting fees or taxes) and 8 (handling stopped) stop
    the clock of the dossier and of its open steps; each keeps the working time it had left, and
    the pause records the appointment the citizen had been given."""
    dossier_id = UUID(cause.dossier_id)
    dossier = await work.deadlines.lock_dossier(dossier_id)
    if dossier is None:
        log.info("pause for an untracked dossier %s ignored", dossier_id)
        return
    if dossier["state"] != DossierState.RUNNING:
        return
    for row in await work.deadlines.lock_deadlines(dossier_id, (DeadlineState.OPEN,)):
        left = remaining_hours(rules.calendar, at, row["started_at"], row["due_at"])
        await work.deadlines.update_deadline(
            dossier_id, row["scope"], row["step_id"], {"state": DeadlineState.PAUSED, "remaining_hours": left}
        )
    await work.deadlines.disarm(dossier_id)
    await work.deadlines.add_pause(
        dict(
            dossier_id=dossier_id,
            status=int(status),
            requested_by=requested_by,
            step_id=step_id,
            paused_at=at,
            old_appointment_at=dossier["appointment_at"],
            appointment_remaining_hours=remaining_hours(rules.calendar, at, dossier["received_at"], dossier["appointment_at"]),
        )
    )
    await work.deadlines.update_dossier(dossier_id, {"state": DossierState.PAUSED, "paused_status": int(status)})
    await work.events.emit(
        ClockPaused(status=status, paused_at=at, appointment_at=dossier["appointment_at"]),
        dossier_id=cause.dossier_id,
        causation=cause,
    )


async def resume_clock(work: DeadlineWork, rules: ClockRules, cause: Envelope, at: datetime) -> None:
    """The citizen answered, paid, or handling resumed: the clock starts again from the next
    working instant, keeping the time already used or giving the whole budget again (the
    procedure's rule); the citizen's appointment moves by as much (NgayHenTraMoi)."""
    dossier_id = UUID(cause.dossier_id)
    dossier = await work.deadlines.lock_dossier(dossier_id)
    if dossier is None or dossier["state"] != DossierState.PAUSED:
        return
    rule = dossier["resume_rule"]
    new_dossier_due = dossier["due_at"]
    for row in await work.deadlines.lock_deadlines(dossier_id, (DeadlineState.PAUSED,)):
        restart, due = resumed_due(rules.calendar, rule, at, row["remaining_hours"] or 0.0, row["budget_hours"])
        started = restart if rule == "restart" else row["started_at"]
        await work.deadlines.update_deadline(
            dossier_id,
            row["scope"],
            row["step_id"],
            {"state": DeadlineState.OPEN, "due_at": due, "started_at": started, "remaining_hours": None},
        )
        if row["overdue_at"] is None:  # a due time found overdue once is not warned about again
            await _arm(work, rules, dossier_id, row["scope"], row["step_id"], restart, due, row["budget_hours"])
        if row["scope"] == "dossier":
            new_dossier_due = due
    old_appointment = dossier["appointment_at"]
    pause = await work.deadlines.open_pause(dossier_id)
    if pause is not None:
        _, new_appointment = resumed_due(rules.calendar, rule, at, pause["appointment_remaining_hours"], dossier["budget_hours"])
        await work.deadlines.end_pause(pause["id"], at, new_appointment)
    else:
        new_appointment = new_dossier_due
    await work.deadlines.update_dossier(
        dossier_id,
        {"state": DossierState.RUNNING, "paused_status": None, "due_at": new_dossier_due, "appointment_at": new_appointment},
    )
    await work.events.emit(
        ClockResumed(resumed_at=at, rule=rule, old_appointment_at=old_appointment, new_appointment_at=new_appointment),
        dossier_id=cause.dossier_id,
        causation=cause,
    )
