"""Structured logging: one JSON object per line on stderr, carrying the service, the request id,
the correlation id of the event flow being applied, and the trace and span ids of the active span
(when tracing is on: `services.tracing`). Anything shaped like a citizen id, a phone number or an
e-mail address is masked on the way out (`services.personal_data.redaction.scrub`): a log line is
a failure's trail, and personal data stays out of it even when a message or exception holds some."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from services.personal_data.redaction import scrub
from services.tracing import current_ids
from services.tracing import enabled as tracing_enabled

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
# The correlation id (shared by every event of one flow) of the event a consumer is applying.
correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        if (request_id := request_id_var.get()) is not None:
            entry["request_id"] = request_id
        if (correlation_id := correlation_id_var.get()) is not None:
            entry["correlation_id"] = correlation_id
        if tracing_enabled() and (ids := current_ids()) is not None:
            entry["trace_id"], entry["span_id"] = ids
        for key, value in getattr(record, "fields", {}).items():
            entry[key] = scrub(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


# What the Kafka client says at ERROR while a broker is away, starting, or electing a new leader or
# group coordinator: it retries by itself, and the service's own lines (the relay's, the backlog
# gauges, readiness's `kafka` check) say whether anything is really held up.
TRANSIENT_KAFKA = re.compile(
    r"Unable connect to|NodeNotReadyError|KafkaConnectionError|Connection at .* closed|GroupCoordinatorNotAvailable"
    r"|NotCoordinator|Heartbeat session expired|coordinator dead|RequestTimedOutError|NotLeaderForPartition"
    r"|LeaderNotAvailable|UnknownTopicOrPartition|CoordinatorLoadInProgress|Connection reset"
)


class KafkaClientNoise(logging.Filter):
    """Keeps the Kafka client's retried, transient failures out of ERROR: such a line becomes a
    WARNING, and the same kind from the same logger is written at most once per `window` seconds,
    saying how many like it were left out meanwhile."""

    def __init__(self, window: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window = window
        self.clock = clock
        self.last: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("aiokafka") or record.levelno < logging.ERROR:
            return True
        found = TRANSIENT_KAFKA.search(record.getMessage())
        if found is None:
            return True
        key = (record.name, found.group(0))
        now = self.clock()
        since, left_out = self.last.get(key, (float("-inf"), 0))
        if now - since < self.window:
            self.last[key] = (since, left_out + 1)
            return False
        self.last[key] = (now, 0)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        if left_out:
            record.msg = f"{record.getMessage()} ({left_out} more like it in the last {self.window:.0f}s)"
            record.args = None
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(KafkaClientNoise())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def fields(**values: object) -> dict[str, dict[str, object]]:
    """`log.info("msg", extra=fields(dossier_id=...))` adds structured fields to the line."""
    return {"fields": values}
