"""Consumer lag as the gauge shows it: high-water mark less position per partition held, and no
stale value for a partition the group no longer holds."""

from __future__ import annotations

from aiokafka.structs import TopicPartition
from prometheus_client import REGISTRY

from services.messaging.lag import LagGauge, partition_lag


def shown(group: str, topic: str, partition: int) -> float | None:
    return REGISTRY.get_sample_value("motcua_consumer_lag", {"group": group, "topic": topic, "partition": str(partition)})


def test_lag_is_highwater_less_position_and_unknown_until_both_are_known() -> None:
    assert partition_lag(120, 100) == 20
    assert partition_lag(100, 100) == 0
    assert partition_lag(100, 105) == 0  # a position read just after a fetch past a stale high-water mark
    assert partition_lag(None, 100) is None
    assert partition_lag(100, None) is None


def test_the_gauge_shows_each_partition_held_and_drops_those_given_up() -> None:
    gauge = LagGauge("test.lag.group", interval_s=1.0)
    a, b = TopicPartition("t.intake", 0), TopicPartition("t.intake", 1)
    gauge.show({a: 7, b: 0}, now=0.0)
    assert shown("test.lag.group", "t.intake", 0) == 7
    assert shown("test.lag.group", "t.intake", 1) == 0

    gauge.show({b: 3, a: None}, now=2.0)  # a rebalanced away (or not fetched yet): no stale 7
    assert shown("test.lag.group", "t.intake", 0) is None
    assert shown("test.lag.group", "t.intake", 1) == 3

    gauge.clear()  # the consumer stopped
    assert shown("test.lag.group", "t.intake", 1) is None


def test_the_gauge_is_read_at_most_once_per_interval() -> None:
    gauge = LagGauge("test.lag.interval", interval_s=1.0)
    assert gauge.due(0.0)
    gauge.show({}, now=0.0)
    assert not gauge.due(0.5)
    assert gauge.due(1.0)
