"""The pure parts of deadline's gauges: where this month starts in Vietnam, the on-time ratio, and
how late an unfired timer must be before it counts."""

from __future__ import annotations

from datetime import UTC, datetime

from deadline.entrypoints.metrics import Throttle, grace_seconds, month_start, on_time_ratio
from services.vocabulary import VN_TZ


def test_the_month_starts_at_midnight_on_the_first_in_vietnam_time() -> None:
    # 17:30 UTC on 31 October is already 00:30 on 1 November in Hà Nội.
    assert month_start(datetime(2026, 10, 31, 17, 30, tzinfo=UTC)) == datetime(2026, 11, 1, tzinfo=VN_TZ)
    assert month_start(datetime(2026, 10, 31, 16, 30, tzinfo=UTC)) == datetime(2026, 10, 1, tzinfo=VN_TZ)


def test_on_time_ratio_counts_early_and_on_time_and_is_one_before_anything_is_resolved() -> None:
    assert on_time_ratio(40, 38) == 0.95
    assert on_time_ratio(0, 0) == 1.0


def test_a_timer_is_late_after_a_few_ticks_and_never_sooner_than_the_minimum() -> None:
    assert grace_seconds(1000) == 30.0
    assert grace_seconds(60_000) == 180.0


def test_the_throttle_lets_a_read_through_once_per_period() -> None:
    throttle = Throttle(60)
    assert throttle.due(0.0)
    assert not throttle.due(59.0)
    assert throttle.due(60.0)
