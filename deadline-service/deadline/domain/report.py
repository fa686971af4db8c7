"""The on-time report's figures (báo cáo tình hình giải quyết hồ sơ): one row per unit, agency,
procedure, field or channel, the rates computed from its counts. Pure: no I/O.

Every item (a dossier, or a step for the by-agency view) received before the period's end and
not finished before its start falls in exactly one class as of the period's end, or as of now
while the period runs (a dossier due next week is not overdue today), so the classes add up to
what was received (new in the period + carried over); the on-time rate is
(early + on time) / resolved. The late and overdue items behind a row can be listed
(`Lateness`), each with the step whose due time was missed and its agency."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from services.vocabulary import VN_TZ, Channel

Dimension = Literal["agency", "unit", "procedure", "field", "channel"]
Bucket = Literal["day", "week", "month"]
# The items behind a row a leader drills into: resolved late, or in progress past their due time.
Lateness = Literal["late", "overdue"]


def channel_name(key: str) -> str | None:
    """A channel's name in the national vocabulary (the by-channel rows are keyed by its number)."""
    try:
        return Channel(int(key)).label
    except ValueError:
        return None


def default_days(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """The days a report covers when the caller leaves them out: the current month so far
    (Vietnam's `today`); with only `to`, the month of `to` up to it; with only `from`, up to today."""
    last = today if last is None else last
    return (last.replace(day=1) if first is None else first), last


@dataclass(frozen=True)
class Period:
    """A report's days (Vietnam time, both included) as instants: the first instant, the instant
    after the last day, and the instant its classes are judged at: the period's end, or now if the
    period runs into the future."""

    first: date
    last: date
    start: datetime
    end: datetime
    as_of: datetime

    @classmethod
    def of(cls, first: date, last: date, now: datetime) -> Period:
        start = datetime.combine(first, time(), VN_TZ)
        end = datetime.combine(last + timedelta(days=1), time(), VN_TZ)
        return cls(first, last, start, end, min(end, now))


@dataclass
class ReportRow:
    key: str
    received_new: int
    carried_over: int
    early: int
    on_time: int
    late: int
    in_progress_not_due: int
    in_progress_overdue: int
    paused: int
    withdrawn: int
    refused: int
    fully_online: int
    name: str | None = None  # the agency's, procedure's or channel's name where the service knows it

    @property
    def received(self) -> int:
        return self.received_new + self.carried_over

    @property
    def resolved(self) -> int:
        return self.early + self.on_time + self.late

    @property
    def in_progress(self) -> int:
        return self.in_progress_not_due + self.in_progress_overdue

    @property
    def withdrawn_or_refused(self) -> int:
        return self.withdrawn + self.refused

    @property
    def on_time_rate(self) -> float | None:
        return round((self.early + self.on_time) / self.resolved, 4) if self.resolved else None

    @property
    def fully_online_share(self) -> float | None:
        return round(self.fully_online / self.received, 4) if self.received else None

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "received": self.received,
            "resolved": self.resolved,
            "in_progress": self.in_progress,
            "withdrawn_or_refused": self.withdrawn_or_refused,
            "on_time_rate": self.on_time_rate,
            "fully_online_share": self.fully_online_share,
        }

    @classmethod
    def total_of(cls, rows: list[ReportRow]) -> ReportRow:
        counts = [f.name for f in fields(cls) if f.name not in ("key", "name")]
        return cls(key="total", **{name: sum(getattr(r, name) for r in rows) for name in counts})


# The columns of the provincial report, in its order: received (new, carried over), resolved
# (early, on time, late), in progress (not yet due, overdue), paused, withdrawn or refused.
COLUMNS = [
    "key",
    "name",
    "received",
    "received_new",
    "carried_over",
    "resolved",
    "early",
    "on_time",
    "late",
    "in_progress",
    "in_progress_not_due",
    "in_progress_overdue",
    "paused",
    "withdrawn_or_refused",
    "withdrawn",
    "refused",
    "on_time_rate",
    "fully_online",
    "fully_online_share",
]


@dataclass(frozen=True)
class Dashboard:
    """What the director's dashboard shows for a period: the on-time rate per bucket, the late
    dossiers per agency, the figures per receiving unit and in total."""

    start: date
    end: date
    points: list[dict[str, Any]]  # bucket, resolved, on_time, on_time_rate
    by_agency: list[ReportRow]
    by_unit: list[ReportRow]
    total: ReportRow
