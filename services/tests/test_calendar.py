"""Working-time arithmetic around the holidays that make dossiers late."""

from datetime import datetime, time

from services.calendar import VN_TZ, WorkingCalendar

calendar = WorkingCalendar()


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


def test_a_day_of_budget_lands_at_the_same_time_next_working_day() -> None:
    assert calendar.add_working_hours(vn(2026, 11, 26, 9, 0), 8) == vn(2026, 11, 27, 9, 0)


def test_tet_2026_is_skipped() -> None:
    # Friday 13/2/2026 afternoon, Tết holidays 16–20/2: the next working day is Monday 23/2
    assert calendar.add_working_hours(vn(2026, 2, 13, 16, 0), 8) == vn(2026, 2, 23, 16, 0)


def test_vietnam_cultural_day_24_11_is_a_day_off_from_2026() -> None:
    assert not calendar.is_working_day(vn(2026, 11, 24).date())
    # Monday 13:00–17:00, then Wednesday 07:30–11:30 (Tuesday 24/11 is off)
    assert calendar.add_working_hours(vn(2026, 11, 23, 13, 0), 8) == vn(2026, 11, 25, 11, 30)


def test_the_make_up_saturday_of_2026_is_a_working_day() -> None:
    assert calendar.is_working_day(vn(2026, 8, 22).date())
    assert not calendar.is_working_day(vn(2026, 8, 31).date())


def test_after_the_cut_off_the_clock_starts_next_working_day() -> None:
    assert calendar.clock_start(vn(2026, 11, 23, 15, 30), cutoff=time(15, 0)) == vn(2026, 11, 25, 7, 30)
    assert calendar.clock_start(vn(2026, 11, 23, 14, 59), cutoff=time(15, 0)) == vn(2026, 11, 23, 14, 59)


def test_outside_office_hours_the_clock_starts_at_the_next_working_period() -> None:
    assert calendar.clock_start(vn(2026, 11, 23, 12, 0)) == vn(2026, 11, 23, 13, 0)
    assert calendar.clock_start(vn(2026, 11, 22, 10, 0)) == vn(2026, 11, 23, 7, 30)  # a Sunday


def test_measuring_gives_back_what_was_added() -> None:
    start = vn(2026, 4, 28, 10, 15)
    due = calendar.add_working_hours(start, 20)
    assert calendar.working_hours_between(start, due) == 20
