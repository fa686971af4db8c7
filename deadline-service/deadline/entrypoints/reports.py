"""The on-time report as JSON and CSV, its series, and the dashboard a director opens: for unit
leaders (their units' dossiers only) and the province administrator (every unit). Without `from`
and `to`, the period is the current month so far."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from deadline.adapters.dashboard import render_csv, render_dashboard
from deadline.application.report import dashboard, on_time_report, on_time_series
from deadline.deps import ReportReader, UnitOfWorkDep
from deadline.domain.report import Bucket, Dimension
from deadline.schemas import ReportPublic

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
