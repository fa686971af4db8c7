"""Dates, times and money as every form, e-mail, SMS and timeline prints them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.formatting import format_date, format_datetime, format_money, jinja_filters


def test_instants_are_printed_in_vietnam_time_whatever_zone_they_come_in() -> None:
    late_evening_utc = datetime(2026, 11, 24, 18, 5, tzinfo=UTC)  # already the 25th in Vietnam
    assert format_datetime(late_evening_utc) == "01:05 25/11/2026"
    assert format_datetime(late_evening_utc.isoformat()) == "01:05 25/11/2026"  # as events carry them
    assert format_date(late_evening_utc) == "25/11/2026"
    assert format_date(date(2027, 2, 9)) == "09/02/2027"
    assert format_datetime(late_evening_utc, "en") == "01:05, 25 Nov 2026"


def test_money_is_in_dong_grouped_as_each_reader_expects() -> None:
    assert format_money(1_250_000) == "1.250.000 đồng"
    assert format_money(1_250_000, "en") == "1,250,000 VND"
    assert format_money(0) == "0 đồng"
    assert format_money(500, "fr") == "500 đồng"  # an unknown language reads Vietnamese


def test_templates_get_the_same_formats_as_filters() -> None:
    filters = jinja_filters()
    assert filters["money"](500_000) == "500.000 đồng" and filters["date"]("2026-11-25T02:00:00+00:00") == "25/11/2026"
