"""Prometheus metrics every service exposes on /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Histogram(
    "motcua_http_request_seconds",
    "HTTP request latency by route and status.",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_PUBLISHED = Counter("motcua_outbox_published_total", "Outbox rows published to Kafka.", ["topic"])
RELAY_LEADER = Gauge("motcua_outbox_relay_leader", "1 while this process is the outbox relay leader.")
EVENTS_CONSUMED = Counter(
    "motcua_events_consumed_total", "Events seen by a consumer, by outcome.", ["consumer", "type", "outcome"]
)
DEAD_LETTERS = Counter("motcua_dead_letters_total", "Messages sent to the dead-letter topic.", ["consumer"])
HTTP_SHED = Counter("motcua_http_shed_total", "Requests refused with 503 because too many were in flight.")
# What waits in the service's own tables, read at each scrape: a broker outage shows as a growing
# backlog and an ageing oldest row while the service keeps accepting work.
OUTBOX_BACKLOG = Gauge("motcua_outbox_backlog", "Outbox rows not yet published to Kafka.")
OUTBOX_OLDEST_AGE = Gauge(
    "motcua_outbox_oldest_unpublished_age_seconds", "Age of the oldest outbox row not yet published (0 when none)."
)
PARKED_EVENTS = Gauge("motcua_parked_events", "Events parked until the event they follow has been applied.")
# An event parked for long waits for one that may never come (lost upstream, or dead-lettered).
PARKED_OLDEST_AGE = Gauge("motcua_parked_oldest_age_seconds", "Age of the oldest parked event (0 when none).")
DEAD_LETTERS_PENDING = Gauge("motcua_dead_letters_pending", "Dead letters not yet replayed.")
# How far each consumer group is behind on each partition it holds: the partition's high-water
# mark less the consumer's position, set after each poll. A partition rebalanced away is removed.
CONSUMER_LAG = Gauge(
    "motcua_consumer_lag",
    "Messages in a partition the consumer group has not read yet (high-water mark less position).",
    ["group", "topic", "partition"],
)
