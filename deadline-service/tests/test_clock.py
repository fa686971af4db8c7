"""The deadline rules without infrastructure: thresholds, classes, resumption, the apology's date."""

from __future__ import annotations

from datetime import datetime

import pytest

from deadline.domain.clock import (
    OVERDUE,
    apology_appointment,
    classify,
    parse_thresholds,
    remaining_hours,
    resumed_due,
    timer_plan,
)
from services.calendar import VN_TZ, WorkingCalendar

calendar = WorkingCalendar()


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


def test_thresholds_are_read_from_configuration() -> None:
    day, pct, hours = parse_thresholds("1-working-day, 80-percent,4-working-hours")
    assert day.hours_before_due(40) == 8 and pct.hours_before_due(40) == pytest.approx(8) and hours.hours_before_due(40) == 4
    assert [t.timer_kind for t in (day, pct)] == ["warning:1-working-day", "warning:80-percent"]


@pytest.mark.parametrize("bad", ["2-days", "120-percent", "soon"])
def test_a_bad_threshold_is_refused_by_name(bad: str) -> None:
    with pytest.raises(ValueError, match=bad):
        parse_thresholds(f"1-working-day,{bad}")


def test_timer_plan_warns_before_due_and_checks_overdue_at_due() -> None:
    thresholds = parse_thresholds("1-working-day,80-percent")
    start, due = vn(2027, 6, 7, 8, 0), vn(2027, 6, 9, 8, 0)  # 16 working hours
    plan = dict(timer_plan(calendar, thresholds, start, due, 16))
    assert plan == {
        "warning:1-working-day": vn(2027, 6, 8, 8, 0),
        "warning:80-percent": vn(2027, 6, 8, 14, 18),  # 12.8 h used
        OVERDUE: due,
    }
    # a one-day budget: "one working day before" would be the start itself, so it is left out
    short = dict(timer_plan(calendar, thresholds, start, vn(2027, 6, 8, 8, 0), 8))
    assert set(short) == {"warning:80-percent", OVERDUE}


def test_classes_early_on_time_late() -> None:
    due = vn(2027, 6, 9, 10, 0)
    assert classify(vn(2027, 6, 8, 16, 0), due) == "early"
    assert classify(vn(2027, 6, 9, 9, 0), due) == "on_time"
    assert classify(due, due) == "on_time"
    assert classify(vn(2027, 6, 9, 10, 1), due) == "late"


def test_resuming_keeps_used_time_or_restarts_the_budget() -> None:
    left = remaining_hours(calendar, vn(2027, 3, 2, 9, 0), vn(2027, 3, 1, 9, 0), vn(2027, 3, 4, 9, 0))
    assert left == 16
    assert resumed_due(calendar, "keep_elapsed", vn(2027, 3, 9, 9, 0), left, 24)[1] == vn(2027, 3, 11, 9, 0)
    assert resumed_due(calendar, "restart", vn(2027, 3, 9, 18, 0), left, 24) == (vn(2027, 3, 10, 7, 30), vn(2027, 3, 12, 17, 0))
    assert (
        remaining_hours(calendar, vn(2027, 3, 5, 9, 0), vn(2027, 3, 1, 9, 0), vn(2027, 3, 4, 9, 0)) == 0
    )  # paused when already late


def test_the_apology_gives_at_least_the_minimum_extension_in_working_time() -> None:
    assert apology_appointment(calendar, vn(2027, 2, 3, 10, 0), 0, 8) == vn(2027, 2, 11, 10, 0)  # across Tết 2027
    assert apology_appointment(calendar, vn(2027, 6, 9, 10, 0), 16, 8) == vn(2027, 6, 11, 10, 0)
