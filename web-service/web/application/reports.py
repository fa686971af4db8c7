"""The statistics pages' use cases: the on-time report of a period by unit, agency, procedure,
field or channel with names instead of codes, its trend, and the dossiers behind a late or
overdue count. Each takes the `Backend` and the officer's token; the deadline service scopes a
unit leader's figures to their units."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from web.adapters.backend import Backend
from web.domain.labels import channel_label
from web.domain.reports import (
    Bucket,
    Chart,
    Dimension,
    DrillState,
    LateDossier,
    Period,
    Report,
    build_report,
    map_dossiers,
    trend_chart,
)


def _period_params(period: Period) -> dict[str, str]:
    return {"from": period.start.isoformat(), "to": period.end.isoformat()}


async def names_for(backend: Backend, token: str, by: Dimension, language: str = "vi") -> dict[str, str]:
    """The names shown instead of codes: units and procedures from intake's catalogue (fields by the
    procedures' field names), channels from the labels, agencies from the procedures' steps."""
    if by == "channel":
        return {str(code): channel_label(code, language) for code in (1, 2, 3)}
    catalogue = await backend.get("intake", "/catalogue", token)
    if by == "unit":
        return {u["code"]: u["name"] for u in catalogue.get("units", [])}
    procedures = catalogue.get("procedures", [])
    if by == "procedure":
        return {p["code"]: p["name"] for p in procedures}
    if by == "field":
        return {p["field"]: p.get("field_name") or p["field"] for p in procedures}
    # No service lists the agencies; each procedure's steps name the agencies handling them.
    details = await asyncio.gather(
        *(backend.get("intake", f"/catalogue/procedures/{p['code']}", token) for p in procedures), return_exceptions=True
    )
    names: dict[str, str] = {}
    for detail in details:
        if isinstance(detail, Mapping):
            for step in detail.get("steps") or []:
                if step.get("agency_code") and step.get("agency_name"):
                    names.setdefault(step["agency_code"], step["agency_name"])
            agency = detail.get("competent_agency") or {}
            if agency.get("code") and agency.get("name"):
                names.setdefault(agency["code"], agency["name"])
    return names


async def on_time_report(backend: Backend, token: str, period: Period, by: Dimension, language: str = "vi") -> Report:
    """The period's figures, one row per key with its name, and the totals."""
    answer, names = await asyncio.gather(
        backend.get("deadline", "/reports/on-time", token, by=by, **_period_params(period)),
        names_for(backend, token, by, language),
    )
    return build_report(answer, period, by, names)


async def on_time_trend(backend: Backend, token: str, period: Period, bucket: Bucket, language: str = "vi") -> Chart:
    """The on-time rate of the dossiers resolved in each day, week or month of the period."""
    series = await backend.get("deadline", "/reports/on-time/series", token, bucket=bucket, **_period_params(period))
    return trend_chart(series if isinstance(series, list) else [], language)


@dataclass(frozen=True)
class DrillDown:
    """The dossiers behind a count, and whether the list was cut at the service's limit."""

    dossiers: list[LateDossier]
    truncated: bool = False


async def late_dossiers(
    backend: Backend, token: str, period: Period, by: Dimension, key: str | None, state: DrillState, language: str = "vi"
) -> DrillDown:
    """The dossiers resolved late (or still in progress past their due time) for one row of the report."""
    params: dict[str, Any] = {"by": by, "key": key, "state": state, **_period_params(period)}
    answer = await backend.get("deadline", "/reports/on-time/dossiers", token, **params)
    units, procedures, agencies = await asyncio.gather(
        names_for(backend, token, "unit", language),
        names_for(backend, token, "procedure", language),
        names_for(backend, token, "agency", language),
    )
    return DrillDown(
        map_dossiers(answer, {"unit": units, "procedure": procedures, "agency": agencies}), bool(answer.get("truncated"))
    )
