"""The on-time report's queries (báo cáo tình hình giải quyết hồ sơ), computed in PostgreSQL: one
aggregate over the dossiers (or, by agency, over the steps) counts each class as of the period's
end, or as of now while the period runs (`:as_of`), so the classes add up to what was received
(`deadline.domain.report`). The late and overdue items behind a row are listed by the same
conditions as they are counted. Every query counts only the dossiers received at the units asked
for (a unit leader's), or every unit's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from deadline.domain.report import Bucket, Dimension, Lateness, Period, ReportRow, channel_name

_PAUSED_AS_OF = """EXISTS (SELECT 1 FROM deadline.pauses p WHERE p.dossier_id = d.dossier_id
    AND p.paused_at < :as_of AND (p.resumed_at IS NULL OR p.resumed_at >= :as_of))"""

# The units counted: `:every_unit`, or the receiving units in `:units`.
_UNITS = "(:every_unit OR d.receiving_unit = ANY(:units))"

_DOSSIER_ITEMS = f"""SELECT {{key}} AS key, {{name}} AS name, d.dossier_id, NULL::varchar AS step_id,
    d.received_at AS start_at, d.ended_at, d.state AS end_state, d.outcome, d.due_at, d.fully_online,
    {_PAUSED_AS_OF} AS paused
    FROM deadline.dossiers d
    WHERE {_UNITS}"""

_STEP_ITEMS = f"""SELECT s.agency_code AS key, s.agency_name AS name, s.dossier_id, s.step_id, s.started_at AS start_at,
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
_CLASSES: dict[Lateness, str] = {"late": _LATE, "overdue": _OVERDUE}

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

# A step's due time missed, as of `:as_of`: it passed before the step was done (or before
# `:as_of`, the step still open); a paused step's due time waits for the citizen.
_MISSED_STEPS = """SELECT coalesce(jsonb_agg(jsonb_build_object(
        'step_id', s.step_id, 'agency_code', s.agency_code, 'agency_name', s.agency_name,
        'due_at', s.due_at, 'completed_at', s.completed_at) ORDER BY s.due_at, s.step_id), '[]'::jsonb)
    FROM deadline.deadlines s
    WHERE s.dossier_id = y.dossier_id AND s.scope = 'step' AND (y.step_id IS NULL OR s.step_id = y.step_id)
      AND s.state <> 'paused' AND s.due_at < least(coalesce(s.completed_at, 'infinity'::timestamptz), :as_of)"""

_ITEMS_OF_ROW = f"""SELECT y.dossier_id, y.step_id, y.key AS row_key, y.name AS row_name, y.due_at AS item_due_at,
    y.ended_at AS item_ended_at, d.dossier_code, d.procedure_code, d.procedure_name, d.field_code, d.channel, d.receiving_unit, d.received_at,
    d.due_at, d.appointment_at, d.state, d.ended_at, ({_MISSED_STEPS}) AS missed_steps
    FROM (SELECT x.* {_IN_PERIOD} AND coalesce(x.key, '') = :key AND {{lateness}}
          ORDER BY x.due_at, x.dossier_id, x.step_id LIMIT :limit) y
    JOIN deadline.dossiers d ON d.dossier_id = y.dossier_id
    ORDER BY y.due_at, d.dossier_code, y.step_id"""


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


async def items_of_row(
    session: AsyncSession,
    period: Period,
    by: Dimension,
    key: str,
    lateness: Lateness,
    units: Sequence[str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The dossiers (by agency: the steps) a row counts as late or overdue, soonest due first, each
    with the steps whose due time was missed (by agency: that step, if its due time was missed)."""
    query = _ITEMS_OF_ROW.format(items=_items(by), lateness=_CLASSES[lateness])
    params = {**_params(period, units), "key": key, "limit": limit}
    return [dict(r) for r in (await session.execute(text(query), params)).mappings().all()]


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
