"""The on-time report's queries (báo cáo tình hình giải quyết hồ sơ), computed in PostgreSQL: one
aggregate over the dossiers (or, by agency, over the steps) counts each class as of the period's
end, or as of now while the period runs (`:as_of`), so the classes add up to what was received
(`deadline.domain.report`). Both count only the dossiers received at the units asked for (a unit
leader's), or every unit's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from deadline.domain.report import Bucket, Dimension, Period, ReportRow, channel_name

_PAUSED_AS_OF = """EXISTS (SELECT 1 FROM deadline.pauses p WHERE p.dossier_id = d.dossier_id
    AND p.paused_at < :as_of AND (p.resumed_at IS NULL OR p.resumed_at >= :as_of))"""

# The units counted: `:every_unit`, or the receiving units in `:units`.
_UNITS = "(:every_unit OR d.receiving_unit = ANY(:units))"

_DOSSIER_ITEMS = f"""SELECT {{key}} AS key, {{name}} AS name, d.received_at AS start_at, d.ended_at, d.state AS end_state, d.outcome, d.due_at, d.fully_online,
    {_PAUSED_AS_OF} AS paused
    FROM deadline.dossiers d
    WHERE {_UNITS}"""

_STEP_ITEMS = f"""SELECT s.agency_code AS key, s.agency_name AS name, s.started_at AS start_at,
    CASE WHEN s.state = 'closed' THEN s.completed_at
         WHEN s.state = 'cancelled' AND d.state IN ('refused', 'withdrawn') THEN d.ended_at END AS ended_at,
    CASE WHEN s.state = 'closed' THEN 'resolved'
         WHEN s.state = 'cancelled' AND d.state IN ('refused', 'withdrawn') THEN d.state ELSE 'running' END AS end_state,
    s.outcome, s.due_at, d.fully_online, {_PAUSED_AS_OF} AS paused
    FROM deadline.deadlines s JOIN deadline.dossiers d ON d.dossier_id = s.dossier_id
    WHERE s.scope = 'step' AND {_UNITS}"""

_KEYS = {"unit": "d.receiving_unit", "procedure": "d.procedure_code", "field": "d.field_code", "channel": "d.channel::text"}
# The names the service has: the procedure's, from the receipt (an agency's comes with its step; a
# channel's is the national vocabulary's). Units and fields are known here by their codes only.
_NAMES = {"unit": "NULL::varchar", "procedure": "d.procedure_name", "field": "NULL::varchar", "channel": "NULL::varchar"}

# Each item's class, as of `:as_of`; `fin`: finished before the period's end.
_LATE = "fin AND end_state = 'resolved' AND outcome = 'late'"
_OVERDUE = "NOT fin AND NOT paused AND due_at < :as_of"

# The items of the period: received before its end, not finished before its start.
_IN_PERIOD = """FROM (SELECT i.*, (i.ended_at IS NOT NULL AND i.ended_at < :to) AS fin FROM ({items}) i) x
    WHERE start_at < :to AND (ended_at IS NULL OR ended_at >= :from)"""

_AGGREGATE = f"""SELECT {{group_key}} AS key, {{group_name}} AS name,
    count(*) FILTER (WHERE start_at >= :from) AS received_new,
    count(*) FILTER (WHERE start_at < :from) AS carried_over,
    count(*) FILTER (WHERE fin AND end_state = 'resolved' AND outcome = 'early') AS early,
    count(*) FILTER (WHERE fin AND end_state = 'resolved' AND outcome = 'on_time') AS on_time,
    count(*) FILTER (WHERE {_LATE}) AS late,
    count(*) FILTER (WHERE NOT fin AND NOT paused AND due_at >= :as_of) AS in_progress_not_due,
    count(*) FILTER (WHERE {_OVERDUE}) AS in_progress_overdue,
    count(*) FILTER (WHERE NOT fin AND paused) AS paused,
    count(*) FILTER (WHERE fin AND end_state = 'withdrawn') AS withdrawn,
    count(*) FILTER (WHERE fin AND end_state = 'refused') AS refused,
    count(*) FILTER (WHERE fully_online) AS fully_online
    {_IN_PERIOD}
    {{group_by}}"""

# The name of a group: the one its latest item carries (a procedure renamed in a later catalogue).
_GROUP_NAME = "(array_agg(name ORDER BY start_at DESC) FILTER (WHERE name IS NOT NULL))[1]"


def _units(units: Sequence[str] | None) -> dict[str, Any]:
    return {"every_unit": units is None, "units": list(units or ())}


def _items(by: Dimension) -> str:
    return _STEP_ITEMS if by == "agency" else _DOSSIER_ITEMS.format(key=_KEYS[by], name=_NAMES[by])


def _params(period: Period, units: Sequence[str] | None) -> dict[str, Any]:
    return {"from": period.start, "to": period.end, "as_of": period.as_of, **_units(units)}


def _named(row: ReportRow, by: Dimension) -> ReportRow:
    if by == "channel":
        row.name = channel_name(row.key)
    return row


async def on_time_report(
    session: AsyncSession, period: Period, by: Dimension, units: Sequence[str] | None
) -> tuple[list[ReportRow], ReportRow]:
    items = _items(by)
    params = _params(period, units)
    grouped = _AGGREGATE.format(
        group_key="coalesce(key, '')", group_name=_GROUP_NAME, items=items, group_by="GROUP BY 1 ORDER BY 1"
    )
    rows = (await session.execute(text(grouped), params)).mappings().all()
    # The totals are counted again without grouping, so a test can check the parts against them.
    total_query = _AGGREGATE.format(group_key="'total'", group_name="NULL::varchar", items=items, group_by="")
    total = (await session.execute(text(total_query), params)).mappings().one()
    return [_named(ReportRow(**dict(r)), by) for r in rows], ReportRow(**dict(total))


async def on_time_series(
    session: AsyncSession, period: Period, bucket: Bucket, units: Sequence[str] | None
) -> list[dict[str, Any]]:
    """Dossiers resolved per period bucket (Vietnam time), with the on-time rate of each."""
    rows = (
        (
            await session.execute(
                text(
                    f"""SELECT date_trunc(:bucket, ended_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS bucket,
                count(*) AS resolved, count(*) FILTER (WHERE outcome IN ('early', 'on_time')) AS on_time
                FROM deadline.dossiers d WHERE state = 'resolved' AND ended_at >= :from AND ended_at < :to AND {_UNITS}
                GROUP BY 1 ORDER BY 1"""
                ),
                {"bucket": bucket, "from": period.start, "to": period.end, **_units(units)},
            )
        )
        .mappings()
        .all()
    )
    return [
        {
            "bucket": r["bucket"].isoformat(),
            "resolved": r["resolved"],
            "on_time": r["on_time"],
            "on_time_rate": round(r["on_time"] / r["resolved"], 4),
        }
        for r in rows
    ]
