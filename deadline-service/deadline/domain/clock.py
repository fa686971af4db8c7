"""Pure deadline rules: warning thresholds, the early / on-time / late class, resumption after a
pause and the new appointment of an apology. No I/O: every function takes the calendar it needs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from services.calendar import VN_TZ, WorkingCalendar

Outcome = Literal["early", "on_time", "late"]
ResumeRule = Literal["keep_elapsed", "restart"]
OVERDUE = "overdue"
# How far ahead of this service's clock the operator's tick may be asked to run: the operator's
# machine and ours may disagree by a few seconds, never by more.
TICK_CLOCK_SKEW = timedelta(seconds=5)


@dataclass(frozen=True)
class Threshold:
    """A warning before a due time (cảnh báo sắp đến hạn): `1-working-day`, `4-working-hours`
    (that much working time left) or `80-percent` (that share of the budget used)."""

    name: str
    working_hours_left: float | None = None
    percent_used: float | None = None

    def hours_before_due(self, budget_hours: float, hours_per_day: float = 8.0) -> float:
        if self.percent_used is not None:
            return budget_hours * (1 - self.percent_used / 100)
        assert self.working_hours_left is not None
        return self.working_hours_left

    @property
    def timer_kind(self) -> str:
        return f"warning:{self.name}"


_PATTERN = re.compile(r"^(?P<n>\d+(?:\.\d+)?)-(?P<unit>working-days?|working-hours?|percent)$")


def parse_thresholds(text: str, hours_per_day: float = 8.0) -> tuple[Threshold, ...]:
    """`"1-working-day,80-percent"` → thresholds; raises ValueError naming the bad item."""
    thresholds = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        match = _PATTERN.match(item)
        if not match:
            raise ValueError(f"warning threshold {item!r}: expected e.g. 1-working-day, 4-working-hours or 80-percent")
        n, unit = float(match["n"]), match["unit"]
        if unit == "percent":
            if not 0 < n < 100:
                raise ValueError(f"warning threshold {item!r}: a percentage between 0 and 100")
            thresholds.append(Threshold(item, percent_used=n))
        else:
            thresholds.append(Threshold(item, working_hours_left=n * (hours_per_day if unit.startswith("working-day") else 1)))
    return tuple(thresholds)


@dataclass(frozen=True)
class ClockRules:
    """What due times are measured with: the working-time calendar (holidays, make-up Saturdays,
    office hours) and the warnings each due time gets before it passes."""

    calendar: WorkingCalendar
    thresholds: tuple[Threshold, ...]

    def timers(self, started_at: datetime, due_at: datetime, budget_hours: float) -> list[tuple[str, datetime]]:
        return timer_plan(self.calendar, self.thresholds, started_at, due_at, budget_hours)


def timer_plan(
    calendar: WorkingCalendar, thresholds: tuple[Threshold, ...], started_at: datetime, due_at: datetime, budget_hours: float
) -> list[tuple[str, datetime]]:
    """(kind, fire_at) of every timer a due time needs: each warning that falls after the start,
    and the overdue check at the due time itself."""
    plan: list[tuple[str, datetime]] = []
    for threshold in thresholds:
        before = threshold.hours_before_due(budget_hours, calendar.minutes_per_day / 60)
        if before <= 0:
            continue
        fire_at = calendar.add_working_hours(due_at, -before)
        if fire_at > started_at and fire_at < due_at:
            plan.append((threshold.timer_kind, fire_at))
    plan.append((OVERDUE, due_at))
    return plan


def classify(completed_at: datetime, due_at: datetime) -> Outcome:
    """Trước hạn / đúng hạn / quá hạn: late after the due time; early when done on a day before the
    due day (Vietnam time); otherwise on time."""
    if completed_at > due_at:
        return "late"
    if completed_at.astimezone(VN_TZ).date() < due_at.astimezone(VN_TZ).date():
        return "early"
    return "on_time"


def remaining_hours(calendar: WorkingCalendar, paused_at: datetime, started_at: datetime, due_at: datetime) -> float:
    """Working time left on a due time when its clock stops (never negative)."""
    return max(0.0, calendar.working_hours_between(max(paused_at, started_at), due_at))


def resumed_due(
    calendar: WorkingCalendar, rule: ResumeRule, resumed_at: datetime, remaining: float, budget_hours: float
) -> tuple[datetime, datetime]:
    """(restart instant, new due time) after a pause: keep the time already used, or give the
    whole budget again (a per-procedure rule)."""
    restart = calendar.clock_start(resumed_at)
    hours = remaining if rule == "keep_elapsed" else budget_hours
    return restart, calendar.add_working_hours(restart, hours)


def apology_appointment(calendar: WorkingCalendar, detected_at: datetime, pending_hours: float, minimum_hours: float) -> datetime:
    """Ngày hẹn trả kết quả mới of the apology (form 4): the budgets of the steps not done yet,
    and never less than `minimum_hours`, counted from when the lateness was found."""
    return calendar.add_working_hours(calendar.clock_start(detected_at), max(pending_hours, minimum_hours))


def tick_in_the_future(at: datetime, now: datetime) -> bool:
    """A tick at `at` would fire timers not due yet: the operator may catch up with time, never run ahead of it."""
    return at > now + TICK_CLOCK_SKEW
