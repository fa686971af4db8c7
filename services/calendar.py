"""The working-time calendar: office hours, Vietnamese public holidays and the civil servants'
yearly schedule (bridged days off, make-up working Saturdays), in Asia/Ho_Chi_Minh.

Budgets are counted in working hours (1 working day = 8 hours in the default windows
07:30–11:30 and 13:00–17:00). Holidays come from the `holidays` package (country VN, which
computes the lunar dates, the published substitutions and the make-up Saturdays); a province adds
or removes days as data: `extra_days_off` / `extra_working_days`, or a schedule file
(`WorkingCalendar.from_file`, `WORKING_CALENDAR_FILE`), without a release.

Arithmetic is O(1) per call on a precomputed table: every instant has a *working-time
coordinate* — the working microseconds elapsed since the table's first day — so adding working
hours is an addition and an inverse lookup, and measuring is a subtraction. Asia/Ho_Chi_Minh has
had a fixed UTC+7 offset since 1975; the table covers 1990–2100 and grows on demand."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import holidays

from services.vocabulary import VN_TZ

HOURS_PER_DAY = 8.0
_US_PER_HOUR = 3_600_000_000
_US_PER_DAY = 86_400_000_000
_FIRST_YEAR = 1990
_LAST_YEAR = 2100
_ORIGIN = date(_FIRST_YEAR, 1, 1)
_ORIGIN_ORDINAL = _ORIGIN.toordinal()
_LOCAL_ORIGIN = datetime(_FIRST_YEAR, 1, 1)  # naive wall clock of Asia/Ho_Chi_Minh
_UTC_OFFSET = timedelta(hours=7)


def _minute_of(moment: time) -> int:
    return moment.hour * 60 + moment.minute


@dataclass(frozen=True)
class OfficeWindow:
    start: time
    end: time

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"office window ends before it starts: {self.start}–{self.end}")

    @property
    def minutes(self) -> int:
        return _minute_of(self.end) - _minute_of(self.start)


DEFAULT_WINDOWS = (OfficeWindow(time(7, 30), time(11, 30)), OfficeWindow(time(13, 0), time(17, 0)))


class _Table:
    """Working days of one calendar, precomputed: which days work, and how many working days
    come before each day (its rank)."""

    def __init__(self, working: list[bool]) -> None:
        self.working = working
        self.rank = [0] * (len(working) + 1)
        self.days: list[int] = []  # day index of the k-th working day
        count = 0
        for i, works in enumerate(working):
            self.rank[i] = count
            if works:
                self.days.append(i)
                count += 1
        self.rank[len(working)] = count


@dataclass(frozen=True)
class WorkingCalendar:
    """Thời gian làm việc: office windows and working days. Hashable and immutable; the
    precomputed table is built on first use and shared by equal calendars."""

    windows: tuple[OfficeWindow, ...] = DEFAULT_WINDOWS
    extra_days_off: frozenset[date] = field(default_factory=frozenset)
    extra_working_days: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        windows = tuple(sorted(self.windows, key=lambda w: w.start))
        if not windows:
            raise ValueError("a working calendar needs at least one office window")
        for before, after in zip(windows, windows[1:], strict=False):
            if after.start < before.end:
                raise ValueError(f"office windows overlap: {before.start}–{before.end} and {after.start}–{after.end}")
        object.__setattr__(self, "windows", windows)
        # window bounds in microseconds since local midnight, and working time before each window
        bounds = [(_minute_of(w.start) * 60_000_000, _minute_of(w.end) * 60_000_000) for w in windows]
        before, acc = [], 0
        for lo, hi in bounds:
            before.append(acc)
            acc += hi - lo
        object.__setattr__(self, "_bounds", tuple(bounds))
        object.__setattr__(self, "_before", tuple(before))
        object.__setattr__(self, "_day_us", acc)
        object.__setattr__(self, "_lock", threading.Lock())
        object.__setattr__(self, "_table_ref", [None])

    # ------------------------------------------------------------------ construction from data

    @classmethod
    def from_schedule(cls, schedule: dict[str, Any]) -> WorkingCalendar:
        """A calendar from a province's schedule document::

            {"office_hours": [["07:30", "11:30"], ["13:00", "17:00"]],
             "years": {"2027": {"days_off": ["2027-02-03"], "working_days": ["2027-01-30"],
                                "source": "Công văn ... /UBND"}}}

        `days_off` add bridged days off; `working_days` are make-up working days and win over any
        day off (also over the package's), so a province can also cancel a day off."""
        windows = DEFAULT_WINDOWS
        if "office_hours" in schedule:
            windows = tuple(OfficeWindow(time.fromisoformat(a), time.fromisoformat(b)) for a, b in schedule["office_hours"])
        days_off: set[date] = set()
        working: set[date] = set()
        for year, entry in (schedule.get("years") or {}).items():
            for key, target in (("days_off", days_off), ("working_days", working)):
                for text in entry.get(key, ()):
                    day = date.fromisoformat(text)
                    if day.year != int(year):
                        raise ValueError(f"{text} listed under year {year}")
                    target.add(day)
        return cls(windows=windows, extra_days_off=frozenset(days_off), extra_working_days=frozenset(working))

    @classmethod
    def from_file(cls, path: str | Path) -> WorkingCalendar:
        return cls.from_schedule(json.loads(Path(path).read_text(encoding="utf-8")))

    # ------------------------------------------------------------------ days

    @property
    def minutes_per_day(self) -> int:
        return self._day_us // 60_000_000  # type: ignore[attr-defined]

    def is_working_day(self, day: date) -> bool:
        index = day.toordinal() - _ORIGIN_ORDINAL
        return self._table_for(index).working[index]

    def next_working_day(self, day: date) -> date:
        index = day.toordinal() - _ORIGIN_ORDINAL
        table = self._table_for(index + 400)
        return date.fromordinal(table.days[table.rank[index + 1]] + _ORIGIN_ORDINAL)

    # ------------------------------------------------------------------ instants

    def clock_start(self, received_at: datetime, cutoff: time | None = None) -> datetime:
        """When working time starts counting for something received at `received_at`: at once
        inside office hours, else at the next working period; after `cutoff` (e.g. 15:00 for
        civil-status groups) on a working day, at the start of the next working day."""
        local = self._local_us(received_at)
        index, of_day = divmod(local, _US_PER_DAY)
        if cutoff is not None and of_day >= _minute_of(cutoff) * 60_000_000 + cutoff.second * 1_000_000:
            table = self._table_for(index + 400)
            if table.working[index]:
                return self._instant(table.days[table.rank[index + 1]], self._bounds[0][0])  # type: ignore[attr-defined]
        return self._latest(self._coordinate(local))

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The instant `hours` of working time after `start` (before it, when negative), in
        Asia/Ho_Chi_Minh. A result on a window's edge is its end (11:30, 17:00), never the next
        window's start; zero hours give the next working instant."""
        delta = round(hours * _US_PER_HOUR)
        position = self._coordinate(self._local_us(start))
        if delta == 0:
            return self._latest(position)
        return self._earliest(position + delta)

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours from `start` to `end` (negative when `end` is earlier)."""
        return (self._coordinate(self._local_us(end)) - self._coordinate(self._local_us(start))) / _US_PER_HOUR

    def add_working_days(self, start: datetime, days: float) -> datetime:
        return self.add_working_hours(start, days * self.minutes_per_day / 60)

    def is_working_time(self, moment: datetime) -> bool:
        """Inside an office window (ends included) of a working day."""
        index, of_day = divmod(self._local_us(moment), _US_PER_DAY)
        return self._table_for(index).working[index] and any(lo <= of_day <= hi for lo, hi in self._bounds)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ the coordinate

    @staticmethod
    def _local_us(moment: datetime) -> int:
        """Wall-clock microseconds since the origin, in Asia/Ho_Chi_Minh (naive = already local)."""
        if moment.tzinfo is not None:
            moment = (moment.astimezone(UTC) + _UTC_OFFSET).replace(tzinfo=None)
        delta = moment - _LOCAL_ORIGIN
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds

    def _coordinate(self, local_us: int) -> int:
        """Working microseconds from the origin to this instant."""
        index, of_day = divmod(local_us, _US_PER_DAY)
        table = self._table_for(index)
        done = table.rank[index] * self._day_us  # type: ignore[attr-defined]
        if not table.working[index]:
            return done
        for (lo, hi), before in zip(self._bounds, self._before, strict=False):  # type: ignore[attr-defined]
            if of_day < hi:
                return done + before + max(0, of_day - lo)
        return done + self._day_us  # type: ignore[attr-defined]

    def _earliest(self, position: int) -> datetime:
        """The earliest instant at this coordinate: a window's end rather than the next start."""
        day_us: int = self._day_us  # type: ignore[attr-defined]
        rank, into = divmod(position - 1, day_us)
        into += 1
        for (lo, hi), before in zip(self._bounds, self._before, strict=False):  # type: ignore[attr-defined]
            if into <= before + hi - lo:
                return self._instant(self._working_day(rank), lo + into - before)
        raise AssertionError("unreachable")

    def _latest(self, position: int) -> datetime:
        """The latest instant at this coordinate: the next window's start rather than an end."""
        day_us: int = self._day_us  # type: ignore[attr-defined]
        rank, into = divmod(position, day_us)
        for (lo, hi), before in zip(self._bounds, self._before, strict=False):  # type: ignore[attr-defined]
            if into < before + hi - lo:
                return self._instant(self._working_day(rank), lo + into - before)
        raise AssertionError("unreachable")

    def _working_day(self, rank: int) -> int:
        table = self._table_ref[0]  # type: ignore[attr-defined]
        while table is None or rank >= len(table.days):
            table = self._table_for(len(table.working) + 3650 if table else 0)
        if rank < 0:
            raise ValueError(f"before the calendar's first year {_FIRST_YEAR}")
        return table.days[rank]

    @staticmethod
    def _instant(index: int, of_day_us: int) -> datetime:
        return (_LOCAL_ORIGIN + timedelta(days=index, microseconds=of_day_us)).replace(tzinfo=VN_TZ)

    def _table_for(self, index: int) -> _Table:
        table = self._table_ref[0]  # type: ignore[attr-defined]
        if table is not None and 0 <= index < len(table.working):
            return table
        if index < 0:
            raise ValueError(f"before the calendar's first year {_FIRST_YEAR}")
        with self._lock:  # type: ignore[attr-defined]
            table = self._table_ref[0]  # type: ignore[attr-defined]
            if table is None or index >= len(table.working):
                last = max(_LAST_YEAR, date.fromordinal(_ORIGIN_ORDINAL + index).year + 10)
                table = _build_table(self.extra_days_off, self.extra_working_days, last)
                self._table_ref[0] = table  # type: ignore[attr-defined]
        return table

    # helpers kept for callers of the first version
    def _at(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, VN_TZ)

    def _day_start(self, day: date) -> datetime:
        return self._at(day, self.windows[0].start)


@lru_cache(maxsize=16)
def _build_table(days_off: frozenset[date], working_days: frozenset[date], last_year: int) -> _Table:
    national = _national_calendar(last_year)
    weekend_workdays = national.weekend_workdays
    length = date(last_year + 1, 1, 1).toordinal() - _ORIGIN_ORDINAL
    working = []
    for index in range(length):
        day = date.fromordinal(_ORIGIN_ORDINAL + index)
        if day in working_days or day in weekend_workdays:
            works = True
        elif day in days_off or day in national:
            works = False
        else:
            works = day.weekday() < 5
        working.append(works)
    return _Table(working)


@lru_cache(maxsize=4)
def _national_calendar(last_year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=range(_FIRST_YEAR, last_year + 1))


def calendar_from(days_off: Iterable[date] = (), working_days: Iterable[date] = ()) -> WorkingCalendar:
    return WorkingCalendar(extra_days_off=frozenset(days_off), extra_working_days=frozenset(working_days))


@lru_cache(maxsize=1)
def working_calendar() -> WorkingCalendar:
    """The deployment's calendar: the schedule file named by `WORKING_CALENDAR_FILE` when set
    (a province's yearly schedule, edited without a release), else the national one."""
    path = os.environ.get("WORKING_CALENDAR_FILE")
    return WorkingCalendar.from_file(path) if path else WorkingCalendar()
