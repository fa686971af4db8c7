"""The statistics pages' rules without I/O: the period and its quick choices, the mapping of the
deadline service's row fields to the report's columns, the trend chart's y-axis, and the Excel
and CSV files written from the same rows as the page."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from web.adapters.report_files import write_csv, write_xlsx
from web.domain.reports import (
    COLUMN,
    MISSING,
    Period,
    PeriodInvalid,
    build_report,
    default_bucket,
    format_figure,
    format_rate,
    map_dossiers,
    map_figures,
    parse_period,
    quick_periods,
    rate_axis,
    trend_chart,
)

# A row as deadline's `GET /reports/on-time` gives it today.
TODAY_ROW = {
    "key": "000.00.00.H30",
    "received_new": 40,
    "carried_over": 8,
    "early": 20,
    "on_time": 10,
    "late": 2,
    "in_progress_not_due": 9,
    "in_progress_overdue": 3,
    "paused": 2,
    "withdrawn": 1,
    "refused": 1,
    "fully_online": 30,
    "received": 48,
    "resolved": 32,
    "on_time_rate": 0.9375,
    "fully_online_share": 0.625,
}


# ---------------------------------------------------------------- the period


def test_the_default_period_is_this_month_so_far() -> None:
    assert parse_period(None, None, date(2026, 11, 25)) == Period(date(2026, 11, 1), date(2026, 11, 25))


def test_quick_periods_cover_last_month_across_a_year_and_the_quarter() -> None:
    quick = {q.key: q.period for q in quick_periods(date(2027, 1, 15))}
    assert quick["last-month"] == Period(date(2026, 12, 1), date(2026, 12, 31))
    assert quick["this-quarter"] == Period(date(2027, 1, 1), date(2027, 1, 15))
    assert quick["this-year"] == Period(date(2027, 1, 1), date(2027, 1, 15))
    assert {q.key: q.period for q in quick_periods(date(2026, 8, 20))}["this-quarter"].start == date(2026, 7, 1)


def test_days_are_read_as_typed_dd_mm_yyyy_or_as_links_carry_them() -> None:
    assert parse_period("01/11/2026", "2026-11-25", date(2026, 11, 25)) == Period(date(2026, 11, 1), date(2026, 11, 25))
    assert parse_period("1-11-2026", " 25.11.2026 ", date(2026, 11, 25)) == Period(date(2026, 11, 1), date(2026, 11, 25))
    with pytest.raises(PeriodInvalid):
        parse_period("hôm qua", None, date(2026, 11, 25))


def test_a_period_ending_before_it_starts_or_a_bad_date_names_the_field() -> None:
    with pytest.raises(PeriodInvalid) as before:
        parse_period("2026-11-20", "2026-11-01", date(2026, 11, 25))
    assert set(before.value.errors) == {"to"}
    with pytest.raises(PeriodInvalid) as bad:
        parse_period("31/02/2026", "2026-11-21", date(2026, 11, 25))
    assert set(bad.value.errors) == {"from"}


def test_the_trend_steps_by_day_for_a_month_week_for_a_quarter_month_beyond() -> None:
    assert default_bucket(Period(date(2026, 11, 1), date(2026, 11, 30))) == "day"
    assert default_bucket(Period(date(2026, 10, 1), date(2026, 12, 31))) == "week"
    assert default_bucket(Period(date(2026, 1, 1), date(2026, 12, 31))) == "month"


# ---------------------------------------------------------------- the row mapping


def test_todays_api_fields_fill_every_column() -> None:
    figures = map_figures(TODAY_ROW)
    assert figures["received_new"] == 40 and figures["carried_over"] == 8 and figures["received"] == 48
    assert (figures["resolved_early"], figures["resolved_on_time"], figures["resolved_late"]) == (20, 10, 2)
    assert (figures["in_progress_not_due"], figures["in_progress_overdue"], figures["paused"]) == (9, 3, 2)
    assert (figures["withdrawn"], figures["refused"]) == (1, 1)
    assert figures["on_time_rate"] == 0.9375


def test_a_total_and_the_rate_are_counted_from_their_parts_when_a_row_lacks_them() -> None:
    figures = map_figures({"key": "x", "early": 5, "on_time": 3, "late": 2})
    assert (figures["resolved_early"], figures["resolved_on_time"], figures["resolved_late"]) == (5, 3, 2)
    assert figures["resolved"] == 10
    assert figures["on_time_rate"] == 0.8


def test_a_column_the_api_does_not_give_is_shown_as_a_dash() -> None:
    figures = map_figures({"key": "x", "received_new": 4, "early": 1, "on_time": 1, "late": 0})
    assert figures["carried_over"] is None and figures["received"] is None
    assert format_figure(COLUMN["carried_over"], figures["carried_over"]) == MISSING
    assert figures["on_time_rate"] == 1.0


def test_only_a_column_the_api_does_not_hold_is_noted_as_missing() -> None:
    period = Period(date(2026, 11, 1), date(2026, 11, 25))
    nothing_resolved = {**TODAY_ROW, "early": 0, "on_time": 0, "late": 0, "resolved": 0, "on_time_rate": None}
    assert build_report({"rows": [], "total": nothing_resolved}, period, "unit", {}).given("on_time_rate")
    older = build_report({"rows": [], "total": {"received_new": 1}}, period, "unit", {})
    assert not older.given("carried_over") and older.given("received_new")


def test_a_rate_the_api_gives_as_null_with_nothing_resolved_is_a_dash() -> None:
    figures = map_figures({**TODAY_ROW, "early": 0, "on_time": 0, "late": 0, "resolved": 0, "on_time_rate": None})
    assert figures["on_time_rate"] is None
    assert format_rate(figures["on_time_rate"]) == MISSING


def test_rows_are_named_sorted_by_name_and_an_empty_key_is_told() -> None:
    api = {"rows": [{**TODAY_ROW, "key": "B"}, {**TODAY_ROW, "key": "A"}, {**TODAY_ROW, "key": ""}], "total": TODAY_ROW}
    report = build_report(api, Period(date(2026, 11, 1), date(2026, 11, 25)), "unit", {"A": "Xã Phú Lộc", "B": "Tỉnh"})
    assert [r.name for r in report.rows] == ["Không xác định", "Tỉnh", "Xã Phú Lộc"]
    assert report.total.name == "Tổng cộng"


def test_rates_and_counts_read_the_vietnamese_way() -> None:
    assert format_rate(0.9375) == "93,8 %"
    assert format_rate(0.9375, "en") == "93.8%"
    assert format_figure(COLUMN["received"], 12345) == "12.345"


def test_the_drill_downs_dossiers_name_their_unit_procedure_step_and_agency() -> None:
    answer = {
        "dossiers": [
            {
                "dossier_id": "d1",
                "dossier_code": "000.00.00.H30-261122-0001",
                "procedure_code": "1.001193",
                "receiving_unit": "000.00.00.H30",
                "due_at": "2026-11-25T10:00:00+07:00",
                "resolved_at": "2026-11-26T09:00:00+07:00",
                "step_id": "residence",
                "agency_code": "CA-XA",
            }
        ]
    }
    names = {
        "procedure": {"1.001193": "Liên thông khai sinh"},
        "unit": {"000.00.00.H30": "Trung tâm tỉnh"},
        "agency": {"CA-XA": "Công an xã"},
    }
    (d,) = map_dossiers(answer, names)
    assert (d.id, d.code, d.procedure, d.unit, d.step, d.agency) == (
        "d1",
        "000.00.00.H30-261122-0001",
        "Liên thông khai sinh",
        "Trung tâm tỉnh",
        "residence",
        "Công an xã",
    )
    assert d.resolved_at == "2026-11-26T09:00:00+07:00"


# ---------------------------------------------------------------- the trend's axis


def test_92_and_97_percent_are_drawn_visibly_apart_on_an_axis_scaled_to_them() -> None:
    axis = rate_axis([92.0, 97.0])
    assert (axis.low, axis.high) == (90.0, 100.0)
    assert axis.ticks[0] == 90.0 and axis.ticks[-1] == 100.0 and 4 <= len(axis.ticks) <= 7
    height = 200
    assert axis.y(92.0, 0, height) - axis.y(97.0, 0, height) >= 0.4 * height  # on 0–100 it would be 5 %


def test_the_axis_keeps_every_rate_inside_and_its_ticks_are_round() -> None:
    for rates in ([92.0, 97.0], [100.0], [50.0, 80.0], [0.0, 100.0], [99.2, 99.9], [12.5]):
        axis = rate_axis(rates)
        assert 0 <= axis.low < axis.high <= 100
        assert all(axis.low <= r <= axis.high for r in rates)
        assert all((t / axis.step) == round(t / axis.step) for t in axis.ticks), (rates, axis)
        assert axis.high - axis.low >= 5


def test_no_rate_gives_the_whole_scale() -> None:
    axis = rate_axis([])
    assert (axis.low, axis.high) == (0.0, 100.0)


def test_the_chart_labels_the_days_dd_mm_and_the_ticks_in_percent() -> None:
    chart = trend_chart(
        [
            {"bucket": "2026-11-02", "resolved": 25, "on_time": 23, "on_time_rate": 0.92},
            {"bucket": "2026-11-09", "resolved": 40, "on_time": 39, "on_time_rate": 0.97},
        ]
    )
    assert [p.label for p in chart.points] == ["02/11", "09/11"]
    assert chart.points[0].y - chart.points[1].y > 0.4 * chart.plot_height
    assert chart.ticks[0][2] == "90 %" and chart.ticks[-1][2] == "100 %"


def test_a_long_series_labels_only_some_days() -> None:
    series = [{"bucket": date(2026, 1, 1 + i).isoformat(), "resolved": 1, "on_time_rate": 1.0} for i in range(31)]
    chart = trend_chart(series)
    assert sum(p.show_label for p in chart.points) <= 13
    assert chart.points[-1].show_label


# ---------------------------------------------------------------- the files


def _report():
    api = {
        "rows": [
            {**TODAY_ROW, "key": "000.00.00.H30"},
            {**TODAY_ROW, "key": "000.01.30.H30", "received_new": 2, "carried_over": 0, "received": 2},
        ],
        "total": {**TODAY_ROW, "key": "total", "received_new": 42, "received": 50},
    }
    names = {"000.00.00.H30": "Trung tâm Phục vụ hành chính công tỉnh", "000.01.30.H30": "Trung tâm xã Phú Lộc"}
    return build_report(api, Period(date(2026, 11, 1), date(2026, 11, 25)), "unit", names)


def test_the_workbook_has_the_title_headings_rows_and_totals_of_the_page() -> None:
    report = _report()
    sheet = load_workbook(io.BytesIO(write_xlsx(report))).active
    assert "01/11/2026" in sheet["A1"].value and "25/11/2026" in sheet["A1"].value
    assert sheet["B3"].value == "Đơn vị tiếp nhận"
    headings = {sheet.cell(4, c).value or sheet.cell(3, c).value: c for c in range(3, 3 + len(report.columns))}
    assert "Mới tiếp nhận trong kỳ" in headings and "Tỉ lệ đúng hạn" in headings
    rows = {sheet.cell(r, 2).value: r for r in range(5, 5 + len(report.rows) + 1)}
    tinh = rows["Trung tâm Phục vụ hành chính công tỉnh"]
    assert sheet.cell(tinh, headings["Mới tiếp nhận trong kỳ"]).value == 40
    assert sheet.cell(tinh, headings["Mới tiếp nhận trong kỳ"]).number_format == "#,##0"
    rate = sheet.cell(tinh, headings["Tỉ lệ đúng hạn"])
    assert rate.value == 0.9375 and rate.number_format == "0.0%"
    total = rows["Tổng cộng"]
    assert total == 5 + len(report.rows) and sheet.cell(total, 2).font.bold
    assert sheet.cell(total, headings["Mới tiếp nhận trong kỳ"]).value == 42
    assert sheet.column_dimensions["B"].width >= len("Trung tâm Phục vụ hành chính công tỉnh")


def test_a_missing_column_is_a_dash_in_the_workbook_and_the_csv() -> None:
    api = {"rows": [{"key": "A", "received_new": 3}], "total": {"key": "total", "received_new": 3}}
    report = build_report(api, Period(date(2026, 11, 1), date(2026, 11, 25)), "unit", {})
    sheet = load_workbook(io.BytesIO(write_xlsx(report))).active
    assert sheet.cell(5, 4).value == 3 and sheet.cell(5, 5).value == MISSING
    lines = list(csv.reader(io.StringIO(write_csv(report).decode("utf-8-sig"))))
    assert lines[1][3] == "3" and lines[1][4] == MISSING


def test_the_csv_is_utf8_with_a_bom_commas_and_crlf_with_the_same_numbers() -> None:
    report = _report()
    raw = write_csv(report)
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.count("\r\n") == len(report.rows) + 2 and "\n" not in text.replace("\r\n", "")
    lines = list(csv.reader(io.StringIO(text)))
    header = lines[0]
    assert header[:2] == ["Mã", "Đơn vị tiếp nhận"] and "Đã giải quyết – Trước hạn" in header
    by_name = {line[1]: line for line in lines[1:]}
    assert by_name["Trung tâm xã Phú Lộc"][header.index("Số hồ sơ tiếp nhận – Mới tiếp nhận trong kỳ")] == "2"
    assert by_name["Tổng cộng"][header.index("Tỉ lệ đúng hạn")] == "93.8%"
