"""Deadline's event handlers and tick over an in-memory repository, outbox and parking: what the
citizen is told (the appointment, the apology) and what officers and leaders see (due times, their
class, warnings), whatever order intake's and routing's topics are read in. No database, no Kafka."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from deadline.application.events import HANDLERS
from deadline.application.reading import get_clock, get_deadlines
from deadline.application.report import counted_units, period
from deadline.application.timers import fire_due_timers, operator_tick
from deadline.domain.clock import tick_in_the_future
from services.events import Envelope, Event
from services.events.schemas import (
    ApologyIssued,
    ClockPaused,
    ClockResumed,
    DeadlineClosed,
    DeadlineOverdue,
    DeadlineWarning,
    DossierReceived,
    DossierRefused,
    FeePaid,
    FeeRequested,
    RouteCompleted,
    RouteStep,
    StepAssigned,
    StepCompleted,
    SupplementReceived,
    SupplementRequested,
)
from services.identity import EVERYTHING, Scope
from services.problems import Problem
from services.vocabulary import VN_TZ, PortalStatus

UBX = RouteStep(step_id="s1", agency_code="UBX", agency_name="UBND xã", budget_hours=24)


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


def receipt(
    memory: Any, at: datetime, *, budget: float = 24, rule: str = "keep_elapsed", route: list[RouteStep] | None = None
) -> DossierReceived:
    """A dossier.received whose appointment is `budget` working hours after `at`."""
    calendar = memory.rules.calendar
    start = calendar.clock_start(at)
    return DossierReceived(
        dossier_code=f"H30.1-{at:%y%m%d}-0001",
        procedure_code="1.001193",
        procedure_name="Đăng ký khai sinh",
        catalogue_version="1",
        receiving_unit="H30.1",
        channel=1,
        received_at=at,
        clock_starts_at=start,
        appointment_at=calendar.add_working_hours(start, budget),
        budget_hours=budget,
        resume_rule=rule,  # type: ignore[arg-type]
        route=route or [UBX],
        applicant_name="Trần Văn A",
    )


async def read(memory: Any, dossier_id: UUID, *events: Event) -> None:
    """Intake's and routing's events about the dossier, read in this order by the consumer."""
    for event in events:
        producer = "intake" if event.event_type.startswith("dossier.") else "routing"
        envelope: Envelope = event.envelope(dossier_id=str(dossier_id), producer=producer)
        await HANDLERS[envelope.type](memory.work, envelope)


def assigned(at: datetime, step: RouteStep = UBX) -> StepAssigned:
    return StepAssigned(
        step_id=step.step_id,
        agency_code=step.agency_code,
        agency_name=step.agency_name,
        budget_hours=step.budget_hours,
        assigned_at=at,
    )


def completed(at: datetime, step: RouteStep = UBX) -> StepCompleted:
    return StepCompleted(step_id=step.step_id, agency_code=step.agency_code, officer="Cán bộ A", completed_at=at)


def agency_asks(at: datetime, step: RouteStep = UBX) -> SupplementRequested:
    return SupplementRequested(requested_by=step.agency_code, step_id=step.step_id, items=["Tờ khai"], requested_at=at)


def answer(at: datetime) -> SupplementReceived:
    return SupplementReceived(received_at=at, items=["Tờ khai"])


async def test_routing_events_read_before_the_receipt_wait_for_it_and_then_close_the_dossier_early(memory: Any) -> None:
    dossier_id = uuid4()
    await read(memory, dossier_id, assigned(vn(2027, 3, 1, 9, 30)), completed(vn(2027, 3, 1, 15, 0)))
    await read(memory, dossier_id, RouteCompleted(completed_at=vn(2027, 3, 1, 15, 0)))
    assert memory.deadlines.deadlines == {} and len(memory.parking.parked[str(dossier_id)]) == 3

    await read(memory, dossier_id, receipt(memory, vn(2027, 3, 1, 9, 0)))

    clock = await get_clock(memory.uow, dossier_id, EVERYTHING)
    assert (clock.state, clock.outcome) == ("resolved", "early")  # due Thursday 4/3, done Monday
    step = next(d for d in await get_deadlines(memory.uow, dossier_id, EVERYTHING) if d.scope == "step")
    assert (step.state, step.outcome) == ("closed", "early")
    assert [(e.scope, e.outcome) for e in memory.events.of(DeadlineClosed)] == [("step", "early"), ("dossier", "early")]
    assert memory.parking.parked == {}
    assert not [t for t in memory.deadlines.timers if t["fire_at"] is not None]  # nothing left to warn about


@pytest.mark.parametrize(
    ("rule", "pause", "resume", "appointment"),
    [
        # 16 of 24 working hours left when the counter asked on Tuesday; handed in a week later
        (
            "keep_elapsed",
            SupplementRequested(requested_by="counter", items=["Tờ khai"], requested_at=vn(2027, 3, 2, 9, 0)),
            answer(vn(2027, 3, 9, 9, 0)),
            vn(2027, 3, 11, 9, 0),
        ),
        # the agency awaits fees (status 6); on payment the whole budget starts again
        (
            "restart",
            FeeRequested(
                step_id="s1", agency_code="UBX", amount_vnd=50000, description="Lệ phí", requested_at=vn(2027, 3, 2, 9, 0)
            ),
            FeePaid(step_id="s1", agency_code="UBX", amount_vnd=50000, paid_at=vn(2027, 3, 3, 14, 0)),
            vn(2027, 3, 8, 14, 0),
        ),
    ],
)
async def test_a_pause_stops_the_clock_and_the_resumption_moves_the_citizens_appointment(
    memory: Any, rule: str, pause: Event, resume: Event, appointment: datetime
) -> None:
    dossier_id = uuid4()
    await read(memory, dossier_id, receipt(memory, vn(2027, 3, 1, 9, 0), rule=rule), assigned(vn(2027, 3, 1, 9, 0)))
    assert (await get_clock(memory.uow, dossier_id, EVERYTHING)).appointment_at == vn(2027, 3, 4, 9, 0)

    await read(memory, dossier_id, pause)
    paused = await get_clock(memory.uow, dossier_id, EVERYTHING)
    status = PortalStatus.SUPPLEMENT_REQUESTED if isinstance(pause, SupplementRequested) else PortalStatus.AWAITING_PAYMENT
    assert (paused.state, paused.paused_status) == ("paused", status)
    assert memory.events.of(ClockPaused)[0].status == status
    assert not [t for t in memory.deadlines.timers if t["fire_at"] is not None]  # no warning while the citizen is awaited
    assert {d.state for d in await get_deadlines(memory.uow, dossier_id, EVERYTHING)} == {"paused"}

    await read(memory, dossier_id, resume)
    clock = await get_clock(memory.uow, dossier_id, EVERYTHING)
    assert (clock.state, clock.appointment_at) == ("running", appointment)
    assert (clock.pauses[0].old_appointment_at, clock.pauses[0].new_appointment_at) == (vn(2027, 3, 4, 9, 0), appointment)
    [resumed] = memory.events.of(ClockResumed)
    assert (resumed.rule, resumed.new_appointment_at) == (rule, appointment)
    overdue_checks = {t["scope"]: t["fire_at"] for t in memory.deadlines.timers if t["kind"] == "overdue" and t["fire_at"]}
    assert overdue_checks["dossier"] == appointment  # armed again for the new due time


async def test_the_citizens_answer_read_before_the_agencys_request_waits_for_it(memory: Any) -> None:
    dossier_id = uuid4()
    await read(memory, dossier_id, receipt(memory, vn(2027, 3, 1, 9, 0)), answer(vn(2027, 3, 9, 9, 0)))
    assert (await get_clock(memory.uow, dossier_id, EVERYTHING)).pauses == [] and len(memory.parking.parked[str(dossier_id)]) == 1

    await read(memory, dossier_id, agency_asks(vn(2027, 3, 2, 9, 0)))

    clock = await get_clock(memory.uow, dossier_id, EVERYTHING)
    assert clock.state == "running" and clock.pauses[0].resumed_at == vn(2027, 3, 9, 9, 0)
    assert clock.appointment_at == vn(2027, 3, 11, 9, 0)  # 16 working hours were left on 2/3
    assert memory.parking.parked == {}


async def test_the_asking_steps_completion_read_before_the_citizens_answer_waits_for_the_answer(memory: Any) -> None:
    dossier_id = uuid4()
    await read(memory, dossier_id, receipt(memory, vn(2027, 3, 1, 9, 0)), assigned(vn(2027, 3, 1, 9, 0)))
    await read(memory, dossier_id, agency_asks(vn(2027, 3, 2, 9, 0)), completed(vn(2027, 3, 10, 9, 0)))
    await read(memory, dossier_id, RouteCompleted(completed_at=vn(2027, 3, 10, 9, 0)))
    assert (await get_clock(memory.uow, dossier_id, EVERYTHING)).state == "paused" and memory.events.of(DeadlineClosed) == []

    await read(memory, dossier_id, answer(vn(2027, 3, 9, 9, 0)))

    clock = await get_clock(memory.uow, dossier_id, EVERYTHING)
    assert (clock.state, clock.outcome) == ("resolved", "early")  # done 10/3, the appointment having moved to 11/3
    assert clock.pauses[0].new_appointment_at == vn(2027, 3, 11, 9, 0)
    assert [e.scope for e in memory.events.of(DeadlineClosed)] == ["step", "dossier"]


async def test_a_second_request_while_the_answer_is_awaited_keeps_the_completion_that_waits_for_the_answer(
    memory: Any,
) -> None:
    police = RouteStep(step_id="s2", agency_code="CA", agency_name="Công an xã", budget_hours=16)
    dossier_id = uuid4()
    await read(memory, dossier_id, receipt(memory, vn(2027, 3, 1, 9, 0), route=[UBX, police]))
    await read(memory, dossier_id, assigned(vn(2027, 3, 1, 9, 0)), assigned(vn(2027, 3, 1, 9, 0), police))
    await read(memory, dossier_id, agency_asks(vn(2027, 3, 2, 9, 0)), completed(vn(2027, 3, 10, 9, 0)))
    await read(memory, dossier_id, agency_asks(vn(2027, 3, 2, 10, 0), police))  # the clock is already stopped

    await read(memory, dossier_id, answer(vn(2027, 3, 9, 9, 0)))

    steps = {d.step_id: d for d in await get_deadlines(memory.uow, dossier_id, EVERYTHING) if d.scope == "step"}
    assert (steps["s1"].state, steps["s1"].completed_at) == ("closed", vn(2027, 3, 10, 9, 0))
    assert steps["s2"].state == "open"


@pytest.mark.parametrize(
    ("done", "outcome"),
    [
        (timedelta(days=-1), "early"),
        (timedelta(minutes=-30), "on_time"),
        (timedelta(0), "on_time"),
        (timedelta(minutes=1), "late"),
    ],
)
async def test_the_result_is_classed_early_on_time_or_late_against_the_appointment(
    memory: Any, done: timedelta, outcome: str
) -> None:
    dossier_id = uuid4()
    await read(memory, dossier_id, receipt(memory, vn(2027, 3, 1, 9, 0)))
    due = (await get_clock(memory.uow, dossier_id, EVERYTHING)).due_at

    await read(memory, dossier_id, RouteCompleted(completed_at=due + done))

    clock = await get_clock(memory.uow, dossier_id, EVERYTHING)
    assert (clock.state, clock.outcome, clock.ended_at) == ("resolved", outcome, due + done)
    assert [e.outcome for e in memory.events.of(DeadlineClosed)] == [outcome]


async def test_an_overdue_dossier_gets_an_apology_whose_new_date_covers_the_steps_not_done(memory: Any) -> None:
    police = RouteStep(step_id="s1", agency_code="CA", agency_name="Công an xã", budget_hours=8)
    insurance = RouteStep(step_id="s2", agency_code="BHXH", agency_name="Bảo hiểm xã hội", budget_hours=16, after=["s1"])
    dossier_id = uuid4()
    # Monday 7/6/2027 08:00, 2 working days: due Wednesday 9/6 08:00; the police's step never done
    await read(memory, dossier_id, receipt(memory, vn(2027, 6, 7, 8, 0), budget=16, route=[police, insurance]))
    await read(memory, dossier_id, assigned(vn(2027, 6, 7, 8, 0), police))

    late = vn(2027, 6, 9, 10, 0)
    result = await fire_due_timers(memory.uow, memory.rules, late, batch=500, min_extension_hours=8)

    [apology] = memory.events.of(ApologyIssued)
    assert (apology.responsible_agency_code, apology.old_appointment_at) == ("CA", vn(2027, 6, 9, 8, 0))
    assert "Công an xã" in apology.reason
    assert apology.new_appointment_at == vn(2027, 6, 11, 10, 0)  # the insurance step's 16 working hours, from now
    overdue = {e.scope: e for e in memory.events.of(DeadlineOverdue)}
    assert overdue["dossier"].agency_name == overdue["step"].agency_name == "Công an xã"
    clock = await get_clock(memory.uow, dossier_id, EVERYTHING)
    assert clock.appointment_at == apology.new_appointment_at and clock.apologies[0].reason == apology.reason
    assert (result.apologies, result.overdue) == (1, 2)
    # each warning and overdue fires once, however often the clock ticks
    assert [e.threshold for e in memory.events.of(DeadlineWarning)].count("80-percent") == 2
    again = await fire_due_timers(memory.uow, memory.rules, late + timedelta(days=3), batch=500, min_extension_hours=8)
    assert again.fired == 0 and len(memory.events.of(ApologyIssued)) == 1


async def test_the_minimum_extension_applies_when_no_step_is_left_to_do(memory: Any) -> None:
    dossier_id = uuid4()
    await read(memory, dossier_id, receipt(memory, vn(2027, 6, 7, 8, 0), budget=8))
    await read(memory, dossier_id, assigned(vn(2027, 6, 7, 8, 0)), completed(vn(2027, 6, 7, 9, 0)))

    await fire_due_timers(memory.uow, memory.rules, vn(2027, 6, 9, 10, 0), batch=1, min_extension_hours=8)

    [apology] = memory.events.of(ApologyIssued)
    assert apology.responsible_agency_code == "H30.1"  # no step late: the receiving unit
    assert apology.new_appointment_at == vn(2027, 6, 10, 10, 0)


async def test_a_refused_dossier_is_no_longer_tracked_and_no_warning_comes_after(memory: Any) -> None:
    dossier_id = uuid4()
    await read(memory, dossier_id, receipt(memory, vn(2027, 3, 1, 9, 0)), assigned(vn(2027, 3, 1, 9, 0)))

    await read(memory, dossier_id, DossierRefused(refused_by="UBX", reason="Không đủ điều kiện", refused_at=vn(2027, 3, 2, 9, 0)))

    clock = await get_clock(memory.uow, dossier_id, EVERYTHING)
    assert (clock.state, clock.outcome) == ("refused", None)
    assert {d.state for d in await get_deadlines(memory.uow, dossier_id, EVERYTHING)} == {"cancelled"}
    result = await fire_due_timers(memory.uow, memory.rules, vn(2027, 3, 30, 9, 0), batch=500, min_extension_hours=8)
    assert result.fired == 0 and memory.events.of(DeadlineWarning) == []


async def test_a_step_done_in_time_gets_no_warning_and_a_late_one_is_warned_once_per_threshold(memory: Any) -> None:
    police = RouteStep(step_id="s1", agency_code="CA", agency_name="Công an xã", budget_hours=16)
    on_time, late = uuid4(), uuid4()
    for dossier_id in (on_time, late):
        # Monday 7/6/2027 08:00, 2 working days: the dossier and its one step due Wednesday 9/6 08:00
        await read(memory, dossier_id, receipt(memory, vn(2027, 6, 7, 8, 0), budget=16, route=[police]))
        await read(memory, dossier_id, assigned(vn(2027, 6, 7, 8, 0), police))
    await read(memory, on_time, completed(vn(2027, 6, 7, 15, 0), police), RouteCompleted(completed_at=vn(2027, 6, 7, 15, 30)))

    for _ in range(2):
        await fire_due_timers(memory.uow, memory.rules, vn(2027, 6, 8, 16, 30), batch=3, min_extension_hours=8)

    warned = sorted((e.scope, e.threshold) for e in memory.events.of(DeadlineWarning))
    assert warned == [("dossier", "1-working-day"), ("dossier", "80-percent"), ("step", "1-working-day"), ("step", "80-percent")]
    assert {env.dossier_id for env in memory.events.envelopes if env.type == "deadline.warning"} == {str(late)}


async def test_the_operators_tick_in_the_future_is_refused_naming_at_and_fires_nothing(memory: Any) -> None:
    dossier_id = uuid4()
    await read(memory, dossier_id, receipt(memory, vn(2027, 6, 7, 8, 0), budget=16), assigned(vn(2027, 6, 7, 8, 0)))
    now = vn(2027, 6, 7, 9, 0)

    with pytest.raises(Problem) as refused:
        await operator_tick(memory.uow, memory.rules, now + timedelta(days=3), now, batch=500, min_extension_hours=8)

    assert refused.value.status == 422 and refused.value.extensions["errors"][0]["field"] == "at"
    assert memory.events.of(DeadlineWarning) == [] and all(t["fired_at"] is None for t in memory.deadlines.timers)
    within_skew = await operator_tick(memory.uow, memory.rules, now + timedelta(seconds=3), now, batch=500, min_extension_hours=8)
    assert within_skew.fired == 0  # a few seconds ahead of this clock is skew, not the future


def test_a_tick_is_in_the_future_beyond_a_few_seconds_of_clock_skew() -> None:
    now = vn(2027, 6, 7, 9, 0)
    assert not tick_in_the_future(now - timedelta(days=30), now)
    assert not tick_in_the_future(now + timedelta(seconds=5), now)
    assert tick_in_the_future(now + timedelta(seconds=6), now)


def test_a_report_counts_the_callers_units_and_a_unit_outside_them_is_not_found() -> None:
    leader = Scope(units=("000.00.00.H30", "000.01.30.H30"))
    assert counted_units(EVERYTHING, None) is None
    assert counted_units(EVERYTHING, "000.01.30.H30") == ("000.01.30.H30",)
    assert counted_units(leader, None) == ("000.00.00.H30", "000.01.30.H30")
    assert counted_units(leader, "000.01.30.H30") == ("000.01.30.H30",)
    assert counted_units(Scope(), None) == ()  # no unit: nothing is counted
    with pytest.raises(Problem) as outside:
        counted_units(leader, "000.02.00.H30")
    assert outside.value.status == 404


def test_a_report_without_a_period_covers_the_current_month_so_far_in_vietnam_time() -> None:
    evening = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)  # 00:30 on 1 December in Vietnam
    days = period(None, None, evening)
    assert (days.first, days.last) == (date(2026, 12, 1), date(2026, 12, 1))
    assert (period(None, date(2027, 1, 15), evening).first, period(date(2026, 10, 5), None, evening).last) == (
        date(2027, 1, 1),
        date(2026, 12, 1),
    )
    with pytest.raises(Problem) as after_today:
        period(date(2026, 12, 5), None, evening)
    assert after_today.value.status == 422


def test_a_period_is_judged_as_of_its_end_or_now_whichever_comes_first() -> None:
    now = vn(2026, 11, 30, 10, 0)
    running = period(date(2026, 11, 1), date(2026, 12, 31), now)
    assert running.as_of == now and running.end == vn(2027, 1, 1, 0, 0)
    past = period(date(2026, 1, 1), date(2026, 3, 31), now)
    assert past.as_of == past.end == vn(2026, 4, 1, 0, 0) and past.start == vn(2026, 1, 1, 0, 0)
