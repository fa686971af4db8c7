"""The on-time report as people read it: the dashboard a director opens (HTML with inline SVG
charts, no script or style from elsewhere) and the CSV file a spreadsheet opens."""

from __future__ import annotations

import csv
import io
from html import escape
from typing import Any

from deadline.domain.report import COLUMNS, Dashboard, ReportRow
from deadline.schemas import ReportPublic


def render_csv(report: ReportPublic) -> str:
    """One line per row of the report, then the total."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(report.rows)
    writer.writerow(report.total)
    return out.getvalue()


def _rate_chart(points: list[dict[str, Any]], width: int = 640, height: int = 220) -> str:
    if not points:
        return '<p class="empty">Chưa có hồ sơ giải quyết trong kỳ.</p>'
    pad, n = 40, len(points)
    step = (width - 2 * pad) / max(n - 1, 1)
    xy = [(pad + i * step, height - pad - p["on_time_rate"] * (height - 2 * pad)) for i, p in enumerate(points)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{escape(p["bucket"])}: {p["on_time_rate"]:.1%} ({p["on_time"]}/{p["resolved"]})</title></circle>'
        for (x, y), p in zip(xy, points, strict=False)
    )
    labels = "".join(
        f'<text x="{x:.1f}" y="{height - pad + 16}" text-anchor="middle">{escape(p["bucket"][5:])}</text>'
        for (x, _), p in zip(xy, points, strict=False)
    )
    grid = "".join(
        f'<line x1="{pad}" x2="{width - pad}" y1="{height - pad - f * (height - 2 * pad):.1f}" y2="{height - pad - f * (height - 2 * pad):.1f}" class="grid"/>'
        f'<text x="{pad - 6}" y="{height - pad - f * (height - 2 * pad) + 4:.1f}" text-anchor="end">{f:.0%}</text>'
        for f in (0, 0.5, 1)
    )
    return (
        f'<svg role="img" aria-label="Tỷ lệ đúng hạn theo thời gian" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
        f'{grid}<polyline points="{path}" class="line"/>{dots}{labels}</svg>'
    )


def _overdue_chart(rows: list[ReportRow], width: int = 640) -> str:
    bars = sorted(((r.key or "?", r.in_progress_overdue, r.late) for r in rows), key=lambda b: -(b[1] + b[2]))[:15]
    if not bars:
        return '<p class="empty">Không có hồ sơ.</p>'
    top = max(1, max(o + late for _, o, late in bars))
    height, left, bar_h = 24 * len(bars) + 10, 160, 16
    parts = []
    for i, (key, overdue, late) in enumerate(bars):
        y = 5 + i * 24
        w1 = (width - left - 60) * overdue / top
        w2 = (width - left - 60) * late / top
        parts.append(
            f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{escape(key)}</text>'
            f'<rect x="{left}" y="{y}" width="{w1:.1f}" height="{bar_h}" class="overdue"><title>{escape(key)}: {overdue} đang quá hạn</title></rect>'
            f'<rect x="{left + w1:.1f}" y="{y}" width="{w2:.1f}" height="{bar_h}" class="late"><title>{escape(key)}: {late} đã giải quyết quá hạn</title></rect>'
            f'<text x="{left + w1 + w2 + 6:.1f}" y="{y + 12}">{overdue + late}</text>'
        )
    return f'<svg role="img" aria-label="Hồ sơ quá hạn theo cơ quan" viewBox="0 0 {width} {height}" width="{width}" height="{height}">{"".join(parts)}</svg>'


def _table(rows: list[ReportRow], total: ReportRow) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)

    def cells(row: ReportRow, tag: str = "td") -> str:
        values = row.as_dict()
        out = []
        for c in COLUMNS:
            v = values[c]
            text = "–" if v is None else f"{v:.1%}" if isinstance(v, float) else str(v)
            out.append(f"<{tag}>{escape(text)}</{tag}>")
        return "".join(out)

    body = "".join(f"<tr>{cells(r)}</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody><tfoot><tr>{cells(total, 'th')}</tr></tfoot></table>"


def render_dashboard(dashboard: Dashboard) -> str:
    """The page: the period's figures as cards, the two charts, and the tables by unit and by agency."""
    start, end, total = dashboard.start, dashboard.end, dashboard.total
    rate = "–" if total.on_time_rate is None else f"{total.on_time_rate:.2%}"
    online = "–" if total.fully_online_share is None else f"{total.fully_online_share:.1%}"
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Tình hình giải quyết hồ sơ {start:%d/%m/%Y}–{end:%d/%m/%Y}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1d2733; }}
.cards {{ display: flex; gap: 1rem; margin: 1rem 0; }}
.card {{ border: 1px solid #d0d7de; border-radius: 8px; padding: .8rem 1.2rem; min-width: 9rem; }}
.card b {{ display: block; font-size: 1.6rem; }}
svg text {{ font-size: 11px; fill: #444; }}
.line {{ fill: none; stroke: #0a6ebd; stroke-width: 2; }} circle {{ fill: #0a6ebd; }}
.grid {{ stroke: #e5e9ef; }} .overdue {{ fill: #d1242f; }} .late {{ fill: #f0a35e; }}
table {{ border-collapse: collapse; font-size: .85rem; margin-top: 1rem; }}
td, th {{ border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }}
</style></head><body>
<h1>Tình hình giải quyết hồ sơ thủ tục hành chính</h1>
<p>Kỳ báo cáo: {start:%d/%m/%Y} – {end:%d/%m/%Y}</p>
<div class="cards">
<div class="card">Tiếp nhận<b id="received">{total.received}</b>mới {total.received_new}, kỳ trước chuyển sang {total.carried_over}</div>
<div class="card">Đã giải quyết<b id="resolved">{total.resolved}</b>trước hạn {total.early}, đúng hạn {total.on_time}, quá hạn {total.late}</div>
<div class="card">Tỷ lệ đúng hạn<b id="on-time-rate">{rate}</b>(trước hạn + đúng hạn) / đã giải quyết</div>
<div class="card">Đang giải quyết<b>{total.in_progress_not_due + total.in_progress_overdue}</b>quá hạn {total.in_progress_overdue}; tạm dừng {total.paused}</div>
<div class="card">Trực tuyến toàn trình<b>{online}</b>rút {total.withdrawn}, từ chối {total.refused}</div>
</div>
<h2>Tỷ lệ đúng hạn theo thời gian</h2>
{_rate_chart(dashboard.points)}
<h2>Hồ sơ quá hạn theo cơ quan</h2>
<p><span style="color:#d1242f">■</span> đang quá hạn <span style="color:#f0a35e">■</span> đã giải quyết quá hạn</p>
{_overdue_chart(dashboard.by_agency)}
<h2>Theo đơn vị tiếp nhận</h2>
{_table(dashboard.by_unit, total)}
<h2>Theo cơ quan giải quyết (các bước)</h2>
{_table(dashboard.by_agency, ReportRow.total_of(dashboard.by_agency))}
</body></html>"""
