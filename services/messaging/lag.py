"""Consumer lag: for each partition a consumer group holds, how many messages it has not read yet
(the partition's high-water mark less the consumer's position). A group that falls behind and keeps
falling behind is a service that cannot keep up, or one whose handler is stuck on a message."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from services.metrics import CONSUMER_LAG


def partition_lag(highwater: int | None, position: int | None) -> int | None:
    """None while either is unknown (no fetch answered yet for the partition)."""
    if highwater is None or position is None:
        return None
    return max(0, highwater - position)


class LagGauge:
    """The lag gauge of one consumer group, set at most once per `interval_s`; the partitions the
    group no longer holds (rebalanced away, or the consumer stopped) are removed from the gauge, so
    a replica never reports a stale lag for a partition another replica now reads."""

    def __init__(self, group: str, interval_s: float = 1.0) -> None:
        self.group = group
        self.interval_s = interval_s
        self.shown: set[TopicPartition] = set()
        self.last = float("-inf")

    def due(self, now: float) -> bool:
        return now - self.last >= self.interval_s

    def show(self, lags: Mapping[TopicPartition, int | None], now: float) -> None:
        self.last = now
        for tp, lag in lags.items():
            if lag is not None:
                CONSUMER_LAG.labels(self.group, tp.topic, str(tp.partition)).set(lag)
        self.clear(keep={tp for tp, lag in lags.items() if lag is not None})

    def clear(self, keep: set[TopicPartition] | None = None) -> None:
        keep = keep or set()
        for tp in self.shown - keep:
            try:
                CONSUMER_LAG.remove(self.group, tp.topic, str(tp.partition))
            except KeyError:
                pass
        self.shown = set(keep)

    async def refresh(self, consumer: AIOKafkaConsumer) -> None:
        """Read each held partition's high-water mark and position (both known locally after a
        fetch; a position still being reset is skipped rather than waited for)."""
        now = time.monotonic()
        if not self.due(now):
            return
        lags: dict[TopicPartition, int | None] = {}
        for tp in consumer.assignment():
            try:
                position = await asyncio.wait_for(consumer.position(tp), 0.1)
            except Exception:
                position = None
            lags[tp] = partition_lag(consumer.highwater(tp), position)
        self.show(lags, now)
