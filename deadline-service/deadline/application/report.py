"""The on-time report a unit or province leader reads for a period (Vietnam days, both included):
by receiving unit, agency, procedure, field or channel, as figures, as a series of on-time rates
per day, week or month, and the dashboard that shows both.

A unit leader's figures count only the dossiers received at their units, the province
administrator's every unit's; `unit` narrows either to one unit, and a unit outside the caller's
is not found (404), as a dossier out of scope is."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from deadline.application.ports import DeadlineUnitOfWork
from deadline.domain.report import Bucket, Dashboard, Dimension
from deadline.schemas import ReportPublic
from services.identity import Scope
from services.problems import field_error, invalid, not_found
from services.vocabulary import VN_TZ

EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def period(start: date, end: date) -> tuple[datetime, datetime]:
    """The period's first instant and the instant after it, in Vietnam time; 422 naming the field at fault."""
    for name, day in (("from", start), ("to", end)):
        if not EARLIEST <= day <= LATEST:  # year 1 or 9999 would overflow the time zone arithmetic
            raise invalid([field_error(name, f"must be between {EARLIEST} and {LATEST}", "out_of_range")])
    if end < start:
        raise invalid([field_error("to", "must not be before from", "before_from")])
    return datetime.combine(start, time(), VN_TZ), datetime.combine(end + timedelta(days=1), time(), VN_TZ)


def counted_units(scope: Scope, unit: str | None) -> Sequence[str] | None:
    """The receiving units whose dossiers a report counts (None: every unit): the one asked for if
    the caller may see it (404 otherwise), else all the caller's."""
    if unit is not None:
        if not scope.covers_unit(unit):
            raise not_found(f"no report of unit {unit} among the units you may read")
        return (unit,)
    return None if scope.everything else scope.units


async def on_time_report(
    uow: DeadlineUnitOfWork, scope: Scope, start: date, end: date, by: Dimension, unit: str | None = None
) -> ReportPublic:
    """Received (new, carried over), resolved early / on time / late, in progress (not yet due,
    overdue), paused, withdrawn, refused; `by=agency` counts each agency's steps, the others dossiers."""
    lo, hi = period(start, end)
    units = counted_units(scope, unit)
    async with uow.read() as work:
        rows, total = await work.deadlines.on_time_report(lo, hi, by, units)
    return ReportPublic(period_from=start, period_to=end, by=by, rows=[r.as_dict() for r in rows], total=total.as_dict())


async def on_time_series(
    uow: DeadlineUnitOfWork, scope: Scope, start: date, end: date, bucket: Bucket, unit: str | None = None
) -> list[dict[str, Any]]:
    """Dossiers resolved per bucket of the period, with the on-time rate of each."""
    lo, hi = period(start, end)
    units = counted_units(scope, unit)
    async with uow.read() as work:
        return await work.deadlines.on_time_series(lo, hi, bucket, units)


async def dashboard(
    uow: DeadlineUnitOfWork, scope: Scope, start: date, end: date, bucket: Bucket, unit: str | None = None
) -> Dashboard:
    lo, hi = period(start, end)
    units = counted_units(scope, unit)
    async with uow.read() as work:
        points = await work.deadlines.on_time_series(lo, hi, bucket, units)
        by_agency, _ = await work.deadlines.on_time_report(lo, hi, "agency", units)
        by_unit, total = await work.deadlines.on_time_report(lo, hi, "unit", units)
    return Dashboard(start, end, points, by_agency, by_unit, total)
