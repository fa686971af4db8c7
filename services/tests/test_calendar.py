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


# ---------------------------------------------------------------- the holidays that move deadlines


def test_30_4_and_1_5_are_skipped() -> None:
    # Wednesday 29/4/2026 10:00 + 1 working day: 30/4 (Thu) and 1/5 (Fri) are off, then a weekend
    assert calendar.add_working_hours(vn(2026, 4, 29, 10, 0), 8) == vn(2026, 5, 4, 10, 0)


def test_national_day_and_its_adjacent_day_are_skipped() -> None:
    # 2026: 31/8 (bridged, made up on Saturday 22/8), 1/9 and 2/9 off: 2h on Friday, 2h on Thursday
    assert calendar.add_working_hours(vn(2026, 8, 28, 15, 0), 4) == vn(2026, 9, 3, 9, 30)
    assert calendar.next_working_day(vn(2026, 8, 28).date()) == vn(2026, 9, 3).date()


def test_a_make_up_saturday_counts_as_a_working_day() -> None:
    # Friday 21/8/2026 16:00 + 2h: one hour on Friday, one on the make-up Saturday 22/8
    assert calendar.add_working_hours(vn(2026, 8, 21, 16, 0), 2) == vn(2026, 8, 22, 8, 30)


def test_hung_kings_day_observed_on_monday_2026() -> None:
    assert not calendar.is_working_day(vn(2026, 4, 27).date())
    assert calendar.add_working_hours(vn(2026, 4, 24, 17, 0), 1) == vn(2026, 4, 28, 8, 30)


def test_window_edges_stay_inside_office_hours() -> None:
    assert calendar.add_working_hours(vn(2026, 11, 25, 7, 30), 4) == vn(2026, 11, 25, 11, 30)
    assert calendar.add_working_hours(vn(2026, 11, 25, 7, 30), 8) == vn(2026, 11, 25, 17, 0)
    assert calendar.add_working_hours(vn(2026, 11, 25, 12, 0), 0) == vn(2026, 11, 25, 13, 0)
    assert calendar.add_working_hours(vn(2026, 11, 26, 10, 0), -8) == vn(2026, 11, 25, 10, 0)


def test_a_province_overrides_a_year_as_data() -> None:
    schedule = {
        "office_hours": [["08:00", "12:00"], ["13:30", "17:30"]],
        "years": {"2027": {"days_off": ["2027-03-03"], "working_days": ["2027-01-30", "2027-04-30"]}},
    }
    province = WorkingCalendar.from_schedule(schedule)
    assert not province.is_working_day(vn(2027, 3, 3).date()) and calendar.is_working_day(vn(2027, 3, 3).date())
    assert province.is_working_day(vn(2027, 1, 30).date())  # a make-up Saturday
    assert province.is_working_day(vn(2027, 4, 30).date())  # a day off cancelled
    assert province.clock_start(vn(2027, 3, 2, 17, 45)) == vn(2027, 3, 4, 8, 0)


def test_the_schedule_file_is_read_from_the_environment(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import json

    from services.calendar import working_calendar

    path = tmp_path / "calendar.json"
    path.write_text(json.dumps({"years": {"2030": {"days_off": ["2030-03-04"]}}}))
    monkeypatch.setenv("WORKING_CALENDAR_FILE", str(path))
    working_calendar.cache_clear()
    try:
        assert not working_calendar().is_working_day(vn(2030, 3, 4).date())
    finally:
        working_calendar.cache_clear()


# ---------------------------------------------------------------- properties

from datetime import timedelta  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2060, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=VN_TZ)
)
budgets_in_minutes = st.integers(min_value=1, max_value=60 * 8 * 400)


def in_office_hours(moment: datetime) -> bool:
    local = moment.astimezone(VN_TZ)
    return calendar.is_working_day(local.date()) and any(w.start <= local.time() <= w.end for w in calendar.windows)


@settings(max_examples=400, deadline=None)
@given(start=instants, minutes=budgets_in_minutes)
def test_adding_then_measuring_gives_back_the_budget(start: datetime, minutes: int) -> None:
    due = calendar.add_working_hours(start, minutes / 60)
    assert round(calendar.working_hours_between(start, due) * 60) == minutes
    assert calendar.working_hours_between(due, start) == -calendar.working_hours_between(start, due)


@settings(max_examples=400, deadline=None)
@given(start=instants, minutes=budgets_in_minutes)
def test_a_deadline_never_lands_on_a_day_off_or_outside_office_hours(start: datetime, minutes: int) -> None:
    due = calendar.add_working_hours(start, minutes / 60)
    assert in_office_hours(due) and calendar.is_working_time(due)
    assert due > start


@settings(max_examples=300, deadline=None)
@given(start=instants, cutoff=st.sampled_from([None, time(15, 0), time(16, 30)]))
def test_the_clock_starts_inside_office_hours_never_before_receipt(start: datetime, cutoff: time | None) -> None:
    begun = calendar.clock_start(start, cutoff)
    assert begun >= start and in_office_hours(begun)
    assert calendar.working_hours_between(start, begun) == 0 or cutoff is not None


@settings(max_examples=200, deadline=None)
@given(start=instants, a=budgets_in_minutes, b=budgets_in_minutes)
def test_adding_is_additive(start: datetime, a: int, b: int) -> None:
    assert calendar.add_working_hours(calendar.add_working_hours(start, a / 60), b / 60) == calendar.add_working_hours(
        start, (a + b) / 60
    )


def reference_add(start: datetime, minutes: int) -> datetime:
    """Minute by minute, the slow obvious way: the precomputed table must agree with it."""
    current = start.astimezone(VN_TZ)
    while minutes > 0:
        nxt = current + timedelta(minutes=1)
        if in_office_hours(current) and in_office_hours(nxt) and not any(current.time() == w.end for w in calendar.windows):
            minutes -= 1
        current = nxt
    return current


@settings(max_examples=60, deadline=None)
@given(start=instants, minutes=st.integers(min_value=1, max_value=60 * 8 * 3))
def test_agrees_with_counting_minute_by_minute(start: datetime, minutes: int) -> None:
    due = calendar.add_working_hours(start, minutes / 60)
    assert due == reference_add(start, minutes)
