"""The on-time report a unit or province leader reads for a period (Vietnam days, both included;
the current month so far when none is given): by receiving unit, agency, procedure, field or
channel, as figures, as a series of on-time rates per day, week or month, and the dashboard that
shows both.

A unit leader's figures count only the dossiers received at their units, the province
administrator's every unit's; `unit` narrows either to one unit, and a unit outside the caller's
is not found (404), as a dossier out of scope is."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from deadline.application.ports import DeadlineUnitOfWork
from deadline.domain.report import Bucket, Dashboard, Dimension, Period, default_days
from deadline.schemas import ReportPublic
from services.identity import Scope
from services.problems import field_error, invalid, not_found
from services.vocabulary import VN_TZ

EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def period(start: date | None, end: date | None, now: datetime | None = None) -> Period:
    """The period asked for (the current month so far, Vietnam time, for what is left out), judged
    as of its end or `now`, whichever is earlier; 422 naming the field at fault."""
    now = now or datetime.now(UTC)
    start, end = default_days(start, end, now.astimezone(VN_TZ).date())
    for name, day in (("from", start), ("to", end)):
        if not EARLIEST <= day <= LATEST:  # year 1 or 9999 would overflow the time zone arithmetic
            raise invalid([field_error(name, f"must be between {EARLIEST} and {LATEST}", "out_of_range")])
    if end < start:
        raise invalid([field_error("to", "must not be before from", "before_from")])
    return Period.of(start, end, now)


def counted_units(scope: Scope, unit: str | None) -> Sequence[str] | None:
    """The receiving units whose dossiers a report counts (None: every unit): the one asked for if
    the caller may see it (404 otherwise), else all the caller's."""
    if unit is not None:
        if not scope.covers_unit(unit):
            raise not_found(f"no report of unit {unit} among the units you may read")
        return (unit,)
    return None if scope.everything else scope.units


async def on_time_report(
    uow: DeadlineUnitOfWork,
    scope: Scope,
    start: date | None,
    end: date | None,
    by: Dimension,
    unit: str | None = None,
    now: datetime | None = None,
) -> ReportPublic:
    """Received (new, carried over), resolved early / on time / late, in progress (not yet due,
    overdue), paused, withdrawn, refused; `by=agency` counts each agency's steps, the others dossiers."""
    days = period(start, end, now)
    units = counted_units(scope, unit)
    async with uow.read() as work:
        rows, total = await work.deadlines.on_time_report(days, by, units)
    return ReportPublic(
        period_from=days.first, period_to=days.last, by=by, rows=[r.as_dict() for r in rows], total=total.as_dict()
    )


async def on_time_series(
    uow: DeadlineUnitOfWork,
    scope: Scope,
    start: date | None,
    end: date | None,
    bucket: Bucket,
    unit: str | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Dossiers resolved per bucket of the period, with the on-time rate of each."""
    days = period(start, end, now)
    units = counted_units(scope, unit)
    async with uow.read() as work:
        return await work.deadlines.on_time_series(days, bucket, units)


async def dashboard(
    uow: DeadlineUnitOfWork,
    scope: Scope,
    start: date | None,
    end: date | None,
    bucket: Bucket,
    unit: str | None = None,
    now: datetime | None = None,
) -> Dashboard:
    days = period(start, end, now)
    units = counted_units(scope, unit)
    async with uow.read() as work:
        points = await work.deadlines.on_time_series(days, bucket, units)
        by_agency, _ = await work.deadlines.on_time_report(days, "agency", units)
        by_unit, total = await work.deadlines.on_time_report(days, "unit", units)
    return Dashboard(days.first, days.last, points, by_agency, by_unit, total)
