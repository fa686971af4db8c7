"""The on-time report as files to send on: an Excel workbook (openpyxl) and a CSV, both written from
the same `Report` as the page, with its headings, so the numbers are the same everywhere.

The workbook has a title row with the period, two heading rows (the groups, then the columns),
counts as integers, the rate as a percentage, widths to fit, and the totals in bold. The CSV is
UTF-8 with a BOM, comma-separated, CRLF line ends: how Excel opens it correctly in Vietnam."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from web.domain.reports import DIMENSIONS, MISSING, Column, Report, Row, column_groups

Translate = Callable[[str], str]


def _same(text: str) -> str:
    return text


def title_of(report: Report, _: Translate = _same) -> str:
    """`Tình hình giải quyết hồ sơ theo đơn vị tiếp nhận, từ 01/11/2026 đến 25/11/2026`."""
    dimension = _(DIMENSIONS[report.by]).lower()
    return (
        f"{_('Tình hình giải quyết hồ sơ theo')} {dimension}, "
        f"{_('từ')} {report.period.start:%d/%m/%Y} {_('đến')} {report.period.end:%d/%m/%Y}"
    )


def heading_of(column: Column, _: Translate = _same) -> str:
    """A column's heading on one line: `Đã giải quyết – Trước hạn`."""
    return f"{_(column.group)} – {_(column.heading)}" if column.group else _(column.heading)


def filename(report: Report, extension: str) -> str:
    return f"thong-ke-{report.by}-{report.period.start.isoformat()}-{report.period.end.isoformat()}.{extension}"


def _csv_value(column: Column, row: Row) -> str:
    value = row.cell(column.key)
    if value is None:
        return MISSING
    if column.kind == "rate":
        return f"{value * 100:.1f}%"
    return str(int(value))


def write_csv(report: Report, _: Translate = _same) -> bytes:
    """One heading line, one line per row, the totals last."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=",", lineterminator="\r\n")
    writer.writerow([_("Mã"), _(DIMENSIONS[report.by]), *(heading_of(c, _) for c in report.columns)])
    for row in [*report.rows, report.total]:
        writer.writerow(
            [row.key, _(row.name) if row is report.total else row.name, *(_csv_value(c, row) for c in report.columns)]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


THIN = Side(style="thin", color="9AA3AD")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="EEF1F4")
COUNT_FORMAT = "#,##0"
RATE_FORMAT = "0.0%"


def write_xlsx(report: Report, _: Translate = _same) -> bytes:
    """The workbook: title (row 1), groups (row 3), headings (row 4), the rows from row 5, totals last."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("Thống kê đúng hạn")[:31]
    width = 2 + len(report.columns)
    sheet.cell(1, 1, title_of(report, _)).font = Font(bold=True, size=13)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)

    head_group, head = 3, 4
    for col, text in ((1, _("Mã")), (2, _(DIMENSIONS[report.by]))):
        sheet.cell(head_group, col, text)
        sheet.merge_cells(start_row=head_group, start_column=col, end_row=head, end_column=col)
    col = 3
    for group, columns in column_groups(report.columns):
        if group:
            sheet.cell(head_group, col, _(group))
            if len(columns) > 1:
                sheet.merge_cells(start_row=head_group, start_column=col, end_row=head_group, end_column=col + len(columns) - 1)
            for i, column in enumerate(columns):
                sheet.cell(head, col + i, _(column.heading))
        else:
            sheet.cell(head_group, col, _(columns[0].heading))
            sheet.merge_cells(start_row=head_group, start_column=col, end_row=head, end_column=col)
        col += len(columns)
    for r in (head_group, head):
        for c in range(1, width + 1):
            cell = sheet.cell(r, c)
            cell.font = Font(bold=True)
            cell.fill = HEAD_FILL
            cell.border = BOX
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    line = head + 1
    for row in [*report.rows, report.total]:
        is_total = row is report.total
        sheet.cell(line, 1, row.key or None)
        sheet.cell(line, 2, _(row.name) if is_total else row.name)
        for i, column in enumerate(report.columns, start=3):
            value = row.cell(column.key)
            cell = sheet.cell(line, i, MISSING if value is None else value)
            if value is None:
                cell.alignment = Alignment(horizontal="center")
            else:
                cell.number_format = RATE_FORMAT if column.kind == "rate" else COUNT_FORMAT
        for c in range(1, width + 1):
            sheet.cell(line, c).border = BOX
            if is_total:
                sheet.cell(line, c).font = Font(bold=True)
        line += 1

    sheet.column_dimensions["A"].width = 18
    longest = max([len(r.name) for r in [*report.rows, report.total]] + [12])
    sheet.column_dimensions["B"].width = min(60, longest + 2)
    for i, column in enumerate(report.columns, start=3):
        sheet.column_dimensions[get_column_letter(i)].width = 14 if column.kind == "rate" else 12
    sheet.row_dimensions[head].height = 45
    sheet.freeze_panes = sheet.cell(head + 1, 3)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
