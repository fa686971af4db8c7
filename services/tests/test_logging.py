"""A broker away or starting makes the Kafka client log ERROR lines many times a second while it
retries by itself; the service's log keeps them at WARNING, at most one of a kind per window,
and leaves every other ERROR as it is."""

from __future__ import annotations

import logging

from services.logging import KafkaClientNoise


def record(name: str, level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, None, None)


def test_a_retried_broker_failure_is_a_warning_once_per_window_with_a_count_of_the_rest() -> None:
    now = [0.0]
    noise = KafkaClientNoise(window=30, clock=lambda: now[0])
    first = record("aiokafka", logging.ERROR, "Unable connect to node with id 1: [Errno 111] Connection refused")
    assert noise.filter(first) and first.levelname == "WARNING"
    for second in range(1, 20):
        now[0] = float(second)
        assert not noise.filter(record("aiokafka", logging.ERROR, "Unable connect to node with id 1: refused"))
    now[0] = 31.0
    later = record("aiokafka", logging.ERROR, "Unable connect to node with id 1: refused")
    assert noise.filter(later) and later.levelname == "WARNING"
    assert later.getMessage().endswith("(19 more like it in the last 30s)")
    coordinator = record(
        "aiokafka.consumer.group_coordinator",
        logging.ERROR,
        "Group Coordinator Request failed: GroupCoordinatorNotAvailableError",
    )
    assert noise.filter(coordinator) and coordinator.levelname == "WARNING"  # another kind: not held back by the first


def test_other_errors_stay_errors() -> None:
    noise = KafkaClientNoise()
    ours = record("services.messaging.relay", logging.ERROR, "Unable connect to node with id 1")
    unknown = record("aiokafka", logging.ERROR, "Unexpected error in sender routine")
    assert noise.filter(ours) and ours.levelname == "ERROR"
    assert noise.filter(unknown) and unknown.levelname == "ERROR"
    assert noise.filter(unknown) and unknown.levelname == "ERROR"  # not rate-limited either
