"""The on-time report a unit or province leader reads for a period (Vietnam days, both included;
the current month so far when none is given): by receiving unit, agency, procedure, field or
channel, as figures, as a series of on-time rates per day, week or month, the dashboard that
shows both, and the late or overdue dossiers behind a row.

A unit leader's figures count only the dossiers received at their units, the province
administrator's every unit's; `unit` narrows either to one unit, and a unit outside the caller's
is not found (404), as a dossier out of scope is."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from deadline.application.ports import DeadlineUnitOfWork, Row
from deadline.domain.report import Bucket, Dashboard, Dimension, Lateness, Period, channel_name, default_days
from deadline.schemas import LateDossierPublic, LateDossiersPublic, MissedStepPublic, ReportPublic
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


async def late_dossiers(
    uow: DeadlineUnitOfWork,
    scope: Scope,
    start: date | None,
    end: date | None,
    by: Dimension,
    key: str,
    lateness: Lateness,
    unit: str | None = None,
    limit: int = 1000,
    now: datetime | None = None,
) -> LateDossiersPublic:
    """The dossiers a row of the report counts as resolved late or as overdue (by agency: that
    agency's steps), with the step whose due time was missed and the agency that held it."""
    days = period(start, end, now)
    units = counted_units(scope, unit)
    async with uow.read() as work:
        rows = await work.deadlines.items_of_row(days, by, key, lateness, units, limit + 1)
    return LateDossiersPublic(
        period_from=days.first,
        period_to=days.last,
        by=by,
        key=key,
        name=channel_name(key) if by == "channel" else next((r["row_name"] for r in rows if r["row_name"]), None),
        state=lateness,
        dossiers=[_late_dossier(row, by) for row in rows[:limit]],
        truncated=len(rows) > limit,
    )


def _late_dossier(row: Row, by: Dimension) -> LateDossierPublic:
    missed = [MissedStepPublic.model_validate(step) for step in row["missed_steps"]]
    if by == "agency":  # the row is the agency's step itself
        step_id, agency_code, agency_name = row["step_id"], row["row_key"], row["row_name"]
        step_due_at, step_completed_at = row["item_due_at"], row["item_ended_at"]
    elif missed:
        first = missed[0]
        step_id, agency_code, agency_name = first.step_id, first.agency_code, first.agency_name
        step_due_at, step_completed_at = first.due_at, first.completed_at
    else:  # late with no step late: the time was lost between the steps (or at the counter)
        step_id = agency_code = agency_name = None
        step_due_at = step_completed_at = None
    return LateDossierPublic(
        dossier_id=row["dossier_id"],
        dossier_code=row["dossier_code"],
        procedure_code=row["procedure_code"],
        procedure_name=row["procedure_name"],
        field_code=row["field_code"],
        channel=row["channel"],
        receiving_unit=row["receiving_unit"],
        received_at=row["received_at"],
        due_at=row["due_at"],
        appointment_at=row["appointment_at"],
        resolved_at=row["ended_at"] if row["state"] == "resolved" else None,
        state=row["state"],
        step_id=step_id,
        agency_code=agency_code,
        agency_name=agency_name,
        step_due_at=step_due_at,
        step_completed_at=step_completed_at,
        missed_steps=missed,
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
