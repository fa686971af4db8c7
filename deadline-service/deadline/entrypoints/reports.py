"""The on-time report as JSON and CSV, its series, the dashboard a director opens and the late or
overdue dossiers behind a row: for unit leaders (their units' dossiers only) and the province
administrator (every unit). Without `from` and `to`, the period is the current month so far."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from deadline.adapters.dashboard import render_csv, render_dashboard
from deadline.application.report import dashboard, late_dossiers, on_time_report, on_time_series
from deadline.deps import ReportReader, UnitOfWorkDep
from deadline.domain.report import Bucket, Dimension, Lateness
from deadline.schemas import LateDossiersPublic, ReportPublic

router = APIRouter(prefix="/reports", tags=["reports"])

From = Annotated[
    date | None,
    Query(
        alias="from",
        description="First day of the period (Vietnam time), e.g. 2027-01-01. Default: the first day of the month of `to`.",
    ),
]
To = Annotated[date | None, Query(description="Last day of the period, included. Default: today (Vietnam time).")]
Unit = Annotated[
    str | None,
    Query(
        max_length=64,
        description="Count only the dossiers received at this unit (one of yours; another unit is 404). "
        "Default: every unit you may read.",
    ),
]


@router.get(
    "/on-time", response_model=ReportPublic, summary="On-time report by agency, unit, procedure, field or channel (JSON or CSV)"
)
async def report(
    uow: UnitOfWorkDep,
    caller: ReportReader,
    start: From = None,
    to: To = None,
    by: Dimension = "unit",
    format: Literal["json", "csv"] = "json",
    unit: Unit = None,
) -> Any:
    """Received (new, carried over), resolved early / on time / late, in progress (not yet due,
    overdue), paused, withdrawn, refused; on-time rate = (early + on time) / resolved; the share
    handled fully online. `by=agency` counts each agency's steps; the others count dossiers.
    Each row names its agency, procedure or channel (`name`); units and fields by code only.
    In progress is judged as of the period's end, or now while the period runs.
    A unit leader's figures count only the dossiers received at their units."""
    result = await on_time_report(uow, caller.scope, start, to, by, unit)
    if format == "json":
        return result
    filename = f"on-time-{by}-{result.period_from.isoformat()}-{result.period_to.isoformat()}.csv"
    return Response(
        render_csv(result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/on-time/dossiers",
    response_model=LateDossiersPublic,
    summary="The dossiers behind a row of the on-time report: resolved late, or overdue",
)
async def dossiers_of_row(
    uow: UnitOfWorkDep,
    caller: ReportReader,
    key: Annotated[
        str,
        Query(
            max_length=64, description="The row's key, as the report gives it (a unit, agency, procedure, field or channel code)."
        ),
    ],
    state: Annotated[Lateness, Query(description="late: resolved after the due time; overdue: in progress past it.")],
    start: From = None,
    to: To = None,
    by: Dimension = "unit",
    unit: Unit = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> LateDossiersPublic:
    """Exactly the dossiers the report's row counts in `late` or `in_progress_overdue` (by agency:
    the agency's steps), soonest due first, each with the step whose due time was missed and the
    agency that held it. Scoped as the report: a unit leader's units only."""
    return await late_dossiers(uow, caller.scope, start, to, by, key, state, unit, limit)


@router.get("/on-time/series", summary="On-time rate of resolved dossiers per day, week or month")
async def series(
    uow: UnitOfWorkDep, caller: ReportReader, start: From = None, to: To = None, bucket: Bucket = "week", unit: Unit = None
) -> list[dict[str, Any]]:
    return await on_time_series(uow, caller.scope, start, to, bucket, unit)


@router.get("/dashboard", response_class=HTMLResponse, summary="The on-time dashboard (HTML with charts)")
async def dashboard_page(
    uow: UnitOfWorkDep, caller: ReportReader, start: From = None, to: To = None, bucket: Bucket = "week", unit: Unit = None
) -> HTMLResponse:
    return HTMLResponse(render_dashboard(await dashboard(uow, caller.scope, start, to, bucket, unit)))
