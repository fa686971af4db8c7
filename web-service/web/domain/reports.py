"""The statistics pages' rules (báo cáo tình hình giải quyết hồ sơ): the period a report covers and
its quick choices, the columns in the layout provincial reports use, the one mapping from the
deadline service's row fields to those columns, the drill-down's dossier fields, and the trend
chart's geometry with its y-axis scaled to the data. Pure: no I/O, no framework.

The deadline service names its counts `received_new`, `carried_over`, `early`, `on_time`, ...
today and may name them `resolved_early`, ... later: every name a column may come under is listed
here, in `COLUMNS`, and nowhere else. A column the service does not give is shown as "—"."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

Dimension = Literal["unit", "agency", "procedure", "field", "channel"]
Bucket = Literal["day", "week", "month"]
DrillState = Literal["late", "overdue"]

DIMENSIONS: dict[str, str] = {
    "unit": "Đơn vị tiếp nhận",
    "agency": "Cơ quan xử lý",
    "procedure": "Thủ tục hành chính",
    "field": "Lĩnh vực",
    "channel": "Kênh nộp hồ sơ",
}
BUCKETS: dict[str, str] = {"day": "Theo ngày", "week": "Theo tuần", "month": "Theo tháng"}
DRILL_STATES: dict[str, str] = {"late": "Đã giải quyết quá hạn", "overdue": "Đang giải quyết quá hạn"}
MISSING = "—"


def dimension_of(value: str | None) -> Dimension:
    """The `by` asked for; by receiving unit when it is none of the five."""
    return value if value in DIMENSIONS else "unit"  # type: ignore[return-value]


def drill_state_of(value: str | None) -> DrillState:
    return value if value in DRILL_STATES else "late"  # type: ignore[return-value]


# ---------------------------------------------------------------- the period


@dataclass(frozen=True)
class Period:
    """Vietnam calendar days, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class QuickPeriod:
    key: str
    label: str  # Vietnamese; translated on the page
    period: Period


def _month_start(day: date) -> date:
    return day.replace(day=1)


def quick_periods(today: date) -> list[QuickPeriod]:
    """This month, last month, this quarter and this year; the running ones end today."""
    this_month = _month_start(today)
    last_month_end = this_month - timedelta(days=1)
    quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return [
        QuickPeriod("this-month", "Tháng này", Period(this_month, today)),
        QuickPeriod("last-month", "Tháng trước", Period(_month_start(last_month_end), last_month_end)),
        QuickPeriod("this-quarter", "Quý này", Period(quarter, today)),
        QuickPeriod("this-year", "Năm nay", Period(date(today.year, 1, 1), today)),
    ]


def default_period(today: date) -> Period:
    """This month so far."""
    return quick_periods(today)[0].period


class PeriodInvalid(ValueError):
    """The period asked for cannot be read; `errors` names each field at fault (form field → message)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)  # as the deadline service accepts


def parse_day(text: str) -> date:
    """A day as an officer types it, `25/11/2026` (or `25-11-2026`), or as links carry it, `2026-11-25`."""
    text = text.strip()
    parts = text.replace("-", "/").replace(".", "/").split("/")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        if len(parts[0]) == 4:
            return date(int(parts[0]), int(parts[1]), int(parts[2]))
        if len(parts[2]) == 4:
            return date(int(parts[2]), int(parts[1]), int(parts[0]))
    raise ValueError(f"not a day: {text!r}")


def shown_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def parse_period(start: str | None, end: str | None, today: date) -> Period:
    """The period from the form's `from` and `to` (dd/mm/yyyy, or yyyy-mm-dd from a link); this
    month so far when both are empty, one side taken from the default when only the other is given."""
    default = default_period(today)
    errors: dict[str, str] = {}
    days: dict[str, date] = {}
    for name, text, fallback in (("from", start, default.start), ("to", end, default.end)):
        if not text:
            days[name] = fallback
            continue
        try:
            days[name] = parse_day(text)
        except ValueError:
            errors[name] = "Ngày không hợp lệ (dd/mm/yyyy)."
            continue
        if not EARLIEST <= days[name] <= LATEST:
            errors[name] = "Ngày phải trong khoảng 01/01/2000 – 31/12/2099."
    if not errors and days["to"] < days["from"]:
        errors["to"] = "Ngày kết thúc không được trước ngày bắt đầu."
    if errors:
        raise PeriodInvalid(errors)
    return Period(days["from"], days["to"])


def default_bucket(period: Period) -> Bucket:
    """The trend's step: days for a month, weeks for a quarter, months beyond."""
    if period.days <= 31:
        return "day"
    if period.days <= 120:
        return "week"
    return "month"


def bucket_of(value: str | None, period: Period) -> Bucket:
    """The trend's step asked for, else the period's default."""
    return value if value in BUCKETS else default_bucket(period)  # type: ignore[return-value]


# ---------------------------------------------------------------- the columns


@dataclass(frozen=True)
class Column:
    """One figure of the report: its heading under its group, and the API names it may come under."""

    key: str
    group: str  # Vietnamese group heading ("" for a column standing alone)
    heading: str  # Vietnamese heading
    names: tuple[str, ...]  # the API field holding it (deadline's `GET /reports/on-time` row)
    kind: Literal["count", "rate"] = "count"
    drill: DrillState | None = None  # its count links to the list of those dossiers


COLUMNS: tuple[Column, ...] = (
    Column("received", "Số hồ sơ tiếp nhận", "Tổng số", ("received",)),
    Column("received_new", "Số hồ sơ tiếp nhận", "Mới tiếp nhận trong kỳ", ("received_new",)),
    Column("carried_over", "Số hồ sơ tiếp nhận", "Kỳ trước chuyển sang", ("carried_over",)),
    Column("resolved", "Đã giải quyết", "Tổng số", ("resolved",)),
    Column("resolved_early", "Đã giải quyết", "Trước hạn", ("early",)),
    Column("resolved_on_time", "Đã giải quyết", "Đúng hạn", ("on_time",)),
    Column("resolved_late", "Đã giải quyết", "Quá hạn", ("late",), drill="late"),
    Column("in_progress_not_due", "Đang giải quyết", "Chưa đến hạn", ("in_progress_not_due",)),
    Column("in_progress_overdue", "Đang giải quyết", "Quá hạn", ("in_progress_overdue",), drill="overdue"),
    Column("paused", "", "Tạm dừng", ("paused",)),
    Column("withdrawn", "Rút, từ chối", "Công dân rút", ("withdrawn",)),
    Column("refused", "Rút, từ chối", "Từ chối", ("refused",)),
    Column("on_time_rate", "", "Tỉ lệ đúng hạn", ("on_time_rate",), kind="rate"),
)
COLUMN = {c.key: c for c in COLUMNS}


def column_groups(columns: Sequence[Column] = COLUMNS) -> list[tuple[str, list[Column]]]:
    """The first heading row: each group with the columns under it ("" for a column standing alone)."""
    groups: list[tuple[str, list[Column]]] = []
    for c in columns:
        if c.group and groups and groups[-1][0] == c.group:
            groups[-1][1].append(c)
        else:
            groups.append((c.group, [c]))
    return groups


Figure = int | float | None


def _figure(value: Any, kind: str) -> Figure:
    if value is None or isinstance(value, bool):
        return None
    if kind == "rate":
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def map_figures(api_row: Mapping[str, Any]) -> dict[str, Figure]:
    """Every column's figure from one row of `GET /reports/on-time` (None: the API does not give it).
    The totals and the rate are the API's own when it gives them, else counted from their parts,
    so a row adds up the same way on the page, in the spreadsheet and in the CSV."""
    figures: dict[str, Figure] = {}
    for c in COLUMNS:
        figures[c.key] = next(
            (_figure(api_row[name], c.kind) for name in c.names if name in api_row and api_row[name] is not None), None
        )
    for total, parts in (
        ("received", ("received_new", "carried_over")),
        ("resolved", ("resolved_early", "resolved_on_time", "resolved_late")),
    ):
        if figures[total] is None and all(figures[p] is not None for p in parts):
            figures[total] = sum(int(figures[p] or 0) for p in parts)
    if figures["on_time_rate"] is None and "on_time_rate" not in api_row:
        early, on_time, resolved = figures["resolved_early"], figures["resolved_on_time"], figures["resolved"]
        if early is not None and on_time is not None and resolved:
            figures["on_time_rate"] = round((early + on_time) / resolved, 4)
    return figures


@dataclass(frozen=True)
class Row:
    """One line of the report: its key (a unit, agency, procedure, field or channel code), the name
    shown for it, and its figures by column key."""

    key: str
    name: str
    figures: dict[str, Figure]
    absent: frozenset[str] = frozenset()  # the columns the API row holds under none of their names

    def cell(self, column: str) -> Figure:
        return self.figures.get(column)


@dataclass(frozen=True)
class Report:
    """The report a page, a spreadsheet and a CSV show alike."""

    period: Period
    by: Dimension
    rows: list[Row]
    total: Row
    columns: tuple[Column, ...] = COLUMNS

    def given(self, column: str) -> bool:
        """Whether the API gives this column at all (for the note under the table)."""
        return column not in self.total.absent


def absent_columns(api_row: Mapping[str, Any]) -> frozenset[str]:
    """The columns the API row does not hold, counted from their parts or not."""
    figures = map_figures(api_row)
    return frozenset(c.key for c in COLUMNS if figures[c.key] is None and not any(n in api_row for n in c.names))


def build_report(
    api: Mapping[str, Any], period: Period, by: Dimension, names: Mapping[str, str], total_label: str = "Tổng cộng"
) -> Report:
    """The report from `GET /reports/on-time`'s answer, each row named from `names` (its code when
    no name is known), sorted by name; an empty key is shown as "Không xác định"."""
    rows = [
        Row(str(r.get("key") or ""), name_of(str(r.get("key") or ""), names), map_figures(r))
        for r in api.get("rows") or []
        if isinstance(r, Mapping)
    ]
    rows.sort(key=lambda r: r.name.casefold())
    total_api = api.get("total")
    if not isinstance(total_api, Mapping):
        total_api = {}
    total = Row("", total_label, map_figures(total_api), absent_columns(total_api))
    return Report(period, by, rows, total)


def name_of(key: str, names: Mapping[str, str]) -> str:
    if not key:
        return "Không xác định"
    return names.get(key) or key


# ---------------------------------------------------------------- numbers as read


def format_count(value: Figure, language: str = "vi") -> str:
    if value is None:
        return MISSING
    separator = "." if language == "vi" else ","
    return f"{int(value):,}".replace(",", separator)


def format_rate(value: Figure, language: str = "vi") -> str:
    """A rate of 0..1 as a percentage with one decimal: `97,5 %` (English `97.5%`)."""
    if value is None:
        return MISSING
    text = f"{value * 100:.1f}"
    return f"{text.replace('.', ',')} %" if language == "vi" else f"{text}%"


def format_figure(column: Column, value: Figure, language: str = "vi") -> str:
    return format_rate(value, language) if column.kind == "rate" else format_count(value, language)


# ---------------------------------------------------------------- the drill-down


@dataclass(frozen=True)
class LateDossier:
    """A dossier behind a late or overdue count, as the drill-down lists it."""

    id: str
    code: str
    procedure: str
    unit: str
    due_at: str | None
    resolved_at: str | None
    step: str
    agency: str


def map_dossiers(answer: Mapping[str, Any], names: Mapping[str, Mapping[str, str]]) -> list[LateDossier]:
    """The dossiers of `GET /reports/on-time/dossiers`, their unit named from `names` (the deadline
    service names the procedure and the agency itself)."""
    found: list[LateDossier] = []
    for item in answer.get("dossiers", []):
        agency_code = item.get("agency_code") or ""
        agency = item.get("agency_name") or (name_of(agency_code, names.get("agency", {})) if agency_code else MISSING)
        found.append(
            LateDossier(
                id=str(item["dossier_id"]),
                code=str(item["dossier_code"]),
                procedure=str(item.get("procedure_name") or name_of(item.get("procedure_code", ""), names.get("procedure", {}))),
                unit=name_of(item.get("receiving_unit", ""), names.get("unit", {})),
                due_at=item.get("due_at"),
                resolved_at=item.get("resolved_at"),
                step=str(item.get("step_id") or MISSING),
                agency=str(agency),
            )
        )
    return found


# ---------------------------------------------------------------- the trend chart


@dataclass(frozen=True)
class Axis:
    """The y-axis of the on-time rate, in percent: from `low` to `high`, a tick every `step`."""

    low: float
    high: float
    step: float

    @property
    def ticks(self) -> list[float]:
        count = round((self.high - self.low) / self.step)
        return [round(self.low + i * self.step, 4) for i in range(count + 1)]

    def y(self, percent: float, top: float, height: float) -> float:
        """Where a rate falls on a plot `height` high whose top is at `top` (SVG y grows downwards)."""
        share = (percent - self.low) / (self.high - self.low)
        return round(top + height * (1 - min(max(share, 0.0), 1.0)), 2)


NICE_STEPS = (0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 25.0)
MIN_SPAN = 5.0  # percentage points an axis shows at least, so a flat line is not drawn on a 0.1 % scale


def rate_axis(percents: Iterable[float], ticks: int = 5) -> Axis:
    """A y-axis scaled to the rates drawn, so their differences show: 92 % and 97 % get 90–100 %,
    not 0–100 %. The bounds are multiples of a round step, within 0–100, and a top within one step
    of 100 % is taken to 100 %."""
    values = [min(max(float(p), 0.0), 100.0) for p in percents]
    if not values:
        return Axis(0.0, 100.0, 20.0)
    low, high = min(values), max(values)
    if high - low < MIN_SPAN:
        pad = (MIN_SPAN - (high - low)) / 2
        low, high = low - pad, high + pad
        if high > 100:
            low, high = low - (high - 100), 100.0
        if low < 0:
            low, high = 0.0, high - low
    raw = (high - low) / max(ticks - 1, 1)
    step = next((s for s in NICE_STEPS if s >= raw), 25.0)
    bottom = max(0.0, math.floor((low - step / 2) / step) * step)
    top = min(100.0, math.ceil(high / step) * step)
    if top == high and top < 100:  # a point on the top line is hard to read: one step of room
        top = min(100.0, top + step)
    if 100 - top <= step:
        top = 100.0
    if (top - bottom) / step != round((top - bottom) / step):  # 100 % not on the step's grid
        bottom = top - math.ceil((top - bottom) / step) * step
    return Axis(bottom, top, step)


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    label: str  # dd/mm
    percent: float
    resolved: int
    show_label: bool


@dataclass(frozen=True)
class Chart:
    """An inline SVG line chart's geometry: the plot area, the axis with its ticks' y, the points."""

    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    axis: Axis
    ticks: list[tuple[float, float, str]]  # value, y, label
    points: list[ChartPoint] = field(default_factory=list)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)

    @property
    def bottom(self) -> int:
        return self.top + self.plot_height


def _tick_label(value: float, language: str) -> str:
    text = f"{value:g}"
    return f"{text.replace('.', ',')} %" if language == "vi" else f"{text}%"


def trend_chart(
    series: Sequence[Mapping[str, Any]], language: str = "vi", width: int = 760, height: int = 260, max_labels: int = 12
) -> Chart:
    """The on-time rate per bucket of `GET /reports/on-time/series` (bucket: ISO day, on_time_rate:
    0..1, resolved), with dd/mm under the points (every few when there are many)."""
    left, top, right, bottom = 56, 14, 16, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    usable = [p for p in series if p.get("on_time_rate") is not None and p.get("bucket")]
    percents = [float(p["on_time_rate"]) * 100 for p in usable]
    axis = rate_axis(percents)
    every = max(1, math.ceil(len(usable) / max_labels))
    points: list[ChartPoint] = []
    for i, (p, percent) in enumerate(zip(usable, percents, strict=True)):
        x = left + (plot_w / 2 if len(usable) == 1 else plot_w * i / (len(usable) - 1))
        day = date.fromisoformat(str(p["bucket"])[:10])
        points.append(
            ChartPoint(
                x=round(x, 2),
                y=axis.y(percent, top, plot_h),
                label=day.strftime("%d/%m"),
                percent=percent,
                resolved=int(p.get("resolved") or 0),
                show_label=i % every == 0 or i == len(usable) - 1,
            )
        )
    ticks = [(t, axis.y(t, top, plot_h), _tick_label(t, language)) for t in axis.ticks]
    return Chart(width, height, left, top, plot_w, plot_h, axis, ticks, points)
