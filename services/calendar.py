"""The working-time calendar: office hours, Vietnamese public holidays and the civil servants'
yearly schedule (bridged days off, make-up working Saturdays), in Asia/Ho_Chi_Minh.

Budgets are counted in working hours (1 working day = 8 hours in the default windows
07:30–11:30 and 13:00–17:00). Holidays come from the `holidays` package (country VN, which
computes the lunar dates and the published substitutions); a province adds or removes days as
data through `extra_days_off` and `extra_working_days`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
HOURS_PER_DAY = 8.0


@dataclass(frozen=True)
class OfficeWindow:
    start: time
    end: time

    @property
    def minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)


DEFAULT_WINDOWS = (OfficeWindow(time(7, 30), time(11, 30)), OfficeWindow(time(13, 0), time(17, 0)))


@dataclass(frozen=True)
class WorkingCalendar:
    windows: tuple[OfficeWindow, ...] = DEFAULT_WINDOWS
    extra_days_off: frozenset[date] = field(default_factory=frozenset)
    extra_working_days: frozenset[date] = field(default_factory=frozenset)

    @property
    def minutes_per_day(self) -> int:
        return sum(w.minutes for w in self.windows)

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        if day in self.extra_days_off:
            return False
        return _national_calendar(day.year).is_working_day(day)

    def next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def clock_start(self, received_at: datetime, cutoff: time | None = None) -> datetime:
        """When working time starts counting for something received at `received_at`: at once
        inside office hours, else at the next working period; after `cutoff` (e.g. 15:00 for
        civil-status groups), at the start of the next working day."""
        local = received_at.astimezone(VN_TZ)
        if cutoff is not None and self.is_working_day(local.date()) and local.time() >= cutoff:
            return self._day_start(self.next_working_day(local.date()))
        return self._next_working_instant(local)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The instant `hours` of working time after `start` (Asia/Ho_Chi_Minh)."""
        remaining = round(hours * 60)
        current = self._next_working_instant(start.astimezone(VN_TZ))
        while True:
            for window in self.windows:
                w_start, w_end = self._at(current.date(), window.start), self._at(current.date(), window.end)
                if current >= w_end:
                    continue
                current = max(current, w_start)
                available = int((w_end - current).total_seconds() // 60)
                if remaining <= available:
                    return current + timedelta(minutes=remaining)
                remaining -= available
                current = w_end
            current = self._day_start(self.next_working_day(current.date()))

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours from `start` to `end` (negative when `end` is earlier)."""
        if end < start:
            return -self.working_hours_between(end, start)
        a, b = start.astimezone(VN_TZ), end.astimezone(VN_TZ)
        minutes = 0.0
        day = a.date()
        while day <= b.date():
            if self.is_working_day(day):
                for window in self.windows:
                    lo = max(a, self._at(day, window.start))
                    hi = min(b, self._at(day, window.end))
                    if hi > lo:
                        minutes += (hi - lo).total_seconds() / 60
            day += timedelta(days=1)
        return minutes / 60

    def add_working_days(self, start: datetime, days: float) -> datetime:
        return self.add_working_hours(start, days * self.minutes_per_day / 60)

    def _at(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, VN_TZ)

    def _day_start(self, day: date) -> datetime:
        return self._at(day, self.windows[0].start)

    def _next_working_instant(self, local: datetime) -> datetime:
        day = local.date()
        if self.is_working_day(day):
            for window in self.windows:
                if local < self._at(day, window.end):
                    return max(local, self._at(day, window.start))
        return self._day_start(self.next_working_day(day))


@lru_cache(maxsize=64)
def _national_calendar(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year)


def calendar_from(days_off: Iterable[date] = (), working_days: Iterable[date] = ()) -> WorkingCalendar:
    return WorkingCalendar(extra_days_off=frozenset(days_off), extra_working_days=frozenset(working_days))
