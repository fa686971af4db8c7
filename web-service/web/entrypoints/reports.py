"""The statistics pages for unit leaders and the province (thống kê đúng hạn): the on-time report of
a period with its trend, its export as Excel and CSV, and the dossiers behind a late or overdue count."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.identity import Role
from services.vocabulary import VN_TZ
from web.adapters.backend import ApiError
from web.adapters.report_files import filename, title_of, write_csv, write_xlsx
from web.application.reports import late_dossiers, names_for, on_time_report, on_time_trend
from web.application.signin import SignedIn
from web.domain.i18n import translate
from web.domain.reports import (
    BUCKETS,
    COLUMNS,
    DIMENSIONS,
    DRILL_STATES,
    Period,
    PeriodInvalid,
    bucket_of,
    column_groups,
    dimension_of,
    drill_state_of,
    format_figure,
    format_rate,
    name_of,
    parse_period,
    quick_periods,
    shown_day,
)
from web.entrypoints.pages import Api, Language, officer_with, render

router = APIRouter()

Reader = Annotated[SignedIn, Depends(officer_with(Role.LEADER, Role.PROVINCE_ADMIN))]
From = Annotated[str | None, Query(alias="from", max_length=20)]
To = Annotated[str | None, Query(max_length=20)]
By = Annotated[str, Query(max_length=20)]


def _today() -> date:
    return datetime.now(VN_TZ).date()


def _query(period: Period, by: str, **extra: Any) -> str:
    params = {"from": period.start.isoformat(), "to": period.end.isoformat(), "by": by, **extra}
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _invalid_form(request: Request, errors: dict[str, str], start: str | None, to: str | None, by: str) -> Response:
    """The page again with the dates as typed and each field's message beside it."""
    return render(
        request,
        "reports/index.html",
        {**_form_context(by, None), "errors": errors, "form": {"from": start or "", "to": to or ""}, "report": None},
        422,
    )


def _form_context(by: str, period: Period | None, bucket: str | None = None) -> dict[str, Any]:
    today = _today()
    return {
        "dimensions": DIMENSIONS,
        "buckets": BUCKETS,
        "by": by,
        "bucket": bucket,
        "quick": [(q, _query(q.period, by), period == q.period) for q in quick_periods(today)],
        "form": {"from": shown_day(period.start), "to": shown_day(period.end)} if period else {},
        "errors": {},
    }


@router.get("/thong-ke", include_in_schema=False)
async def statistics(
    request: Request,
    officer: Reader,
    api: Api,
    lang: Language,
    start: From = None,
    to: To = None,
    by: By = "unit",
    bucket: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    by = dimension_of(by)
    try:
        period = parse_period(start, to, _today())
    except PeriodInvalid as exc:
        return _invalid_form(request, exc.errors, start, to, by)
    bucket = bucket_of(bucket, period)
    try:
        report, chart = await asyncio.gather(
            on_time_report(api, officer.token, period, by, lang), on_time_trend(api, officer.token, period, bucket, lang)
        )
    except ApiError as exc:
        if exc.status != 422:
            raise
        return _invalid_form(request, exc.by_field or {"from": exc.detail}, start, to, by)
    return render(
        request,
        "reports/index.html",
        {
            **_form_context(by, period, bucket),
            "report": report,
            "chart": chart,
            "columns": COLUMNS,
            "groups": column_groups(),
            "figure": lambda column, value: format_figure(column, value, lang),
            "rate": lambda value: format_rate(value, lang),
            "title": title_of(report, lambda text: translate(text, lang)),
            "query": _query(period, by),
            "drill": lambda row, state: "/thong-ke/ho-so?" + _query(period, by, key=row.key or None, state=state),
            "missing": [c for c in COLUMNS if not report.given(c.key)],
        },
    )


async def _export(
    request: Request, officer: SignedIn, api: Any, lang: str, start: str | None, to: str | None, by: str, kind: str
) -> Response:
    by = dimension_of(by)
    try:
        period = parse_period(start, to, _today())
    except PeriodInvalid as exc:
        return _invalid_form(request, exc.errors, start, to, by)
    report = await on_time_report(api, officer.token, period, by, lang)

    def _(text: str) -> str:
        return translate(text, lang)

    if kind == "xlsx":
        body, media = write_xlsx(report, _), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, media = write_csv(report, _), "text/csv; charset=utf-8"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename(report, kind)}"'})


@router.get("/thong-ke.xlsx", include_in_schema=False)
async def statistics_xlsx(
    request: Request, officer: Reader, api: Api, lang: Language, start: From = None, to: To = None, by: By = "unit"
) -> Response:
    return await _export(request, officer, api, lang, start, to, by, "xlsx")


@router.get("/thong-ke.csv", include_in_schema=False)
async def statistics_csv(
    request: Request, officer: Reader, api: Api, lang: Language, start: From = None, to: To = None, by: By = "unit"
) -> Response:
    return await _export(request, officer, api, lang, start, to, by, "csv")


@router.get("/thong-ke/ho-so", include_in_schema=False)
async def statistics_dossiers(
    request: Request,
    officer: Reader,
    api: Api,
    lang: Language,
    state: Annotated[str, Query(max_length=20)] = "late",
    start: From = None,
    to: To = None,
    by: By = "unit",
    key: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    try:
        period = parse_period(start, to, _today())
    except PeriodInvalid as exc:
        return _invalid_form(request, exc.errors, start, to, by)
    by, state = dimension_of(by), drill_state_of(state)
    drill, names = await asyncio.gather(
        late_dossiers(api, officer.token, period, by, key, state, lang), names_for(api, officer.token, by, lang)
    )
    return render(
        request,
        "reports/dossiers.html",
        {
            "drill": drill,
            "state": state,
            "state_label": DRILL_STATES[state],
            "dimension": DIMENSIONS[by],
            "row_name": "Tất cả" if key is None else name_of(key, names),
            "period": period,
            "back": "/thong-ke?" + _query(period, by),
        },
    )
