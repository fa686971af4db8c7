"""Traces (OpenTelemetry) across HTTP, the database and Kafka, so one trace shows a dossier from
the counter through routing, deadline and notify; and nothing at all while they are off.

Tracing is off unless the process is given somewhere to send spans (`services.tracing_export`
reads the environment at start and calls `install`); until then `enabled()` is False and the
callers below skip every span: no tracer, no context, no header.

How a trace crosses Kafka. An event is written to the outbox in the use case's transaction and
published later by the relay, perhaps on another replica, so its context is captured when it is
emitted: a `create <event type>` span (PRODUCER) around the outbox insert, whose W3C
`traceparent` is kept in the outbox row's headers. The relay sends the row with those headers as
the Kafka message's, in a `send <topic>` span under it; the consumer extracts them and applies the
event in a `process <event type>` span (CONSUMER), a child of the create span, and the events its
handler emits are created under that span: the chain goes on from service to service.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.trace import (
    Span,
    SpanKind,
    Tracer,
    TracerProvider,
    format_span_id,
    format_trace_id,
    get_current_span,
    set_span_in_context,
)
from opentelemetry.util.types import AttributeValue

if TYPE_CHECKING:
    from fastapi.telemetry import TelemetryConfig

    from services.events import Envelope

TRACER_NAME = "motcua.messaging"
NO_HEADERS = "{}"

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
FILE_VARIABLE = "OTEL_TRACES_FILE"

_provider: TracerProvider | None = None
_tracer: Tracer | None = None


def install(provider: TracerProvider | None) -> None:
    """Trace with `provider` from now on; None turns tracing off again."""
    global _provider, _tracer
    _provider = provider
    _tracer = provider.get_tracer(TRACER_NAME) if provider is not None else None


def wanted(env: Mapping[str, str]) -> bool:
    """Whether the environment asks for traces: an OTLP endpoint or a span file, and the SDK not disabled."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(env.get(name) for name in (*ENDPOINT_VARIABLES, FILE_VARIABLE))


def enabled() -> bool:
    return _tracer is not None


def provider() -> TracerProvider | None:
    """The provider spans go to, or None while tracing is off."""
    return _provider


def http_telemetry() -> TelemetryConfig:
    """FastAPI's own OpenTelemetry: a server span per request (continuing the caller's
    `traceparent`), named by its route, while tracing is on (`services.tracing_export`); entirely
    off otherwise, whatever global provider a library may have set. Its metrics and logs stay off:
    /metrics and the JSON log lines are the service's own."""
    return {
        "tracing": _provider is not None,
        "tracer_provider": _provider,
        "metrics": False,
        "logs": False,
        "operation_spans": False,  # a span per dependency and serialisation: more noise than insight here
        "auto_configure": False,
        "exclude": is_probe,
    }


# Asked every few seconds by the orchestrator and the scraper: a trace each would bury the dossiers'.
PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def is_probe(scope: MutableMapping[str, Any]) -> bool:
    """Whether a request is a liveness, readiness or metrics probe, which is not traced."""
    return scope.get("path") in PROBE_PATHS


def current_ids() -> tuple[str, str] | None:
    """The active span's trace id and span id in hex (as log lines carry them), or None outside any span."""
    context = get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format_trace_id(context.trace_id), format_span_id(context.span_id)


def headers_for(context: Context | None = None) -> dict[str, str]:
    """The propagation headers of `context` (the current one by default): W3C `traceparent`, and
    `tracestate` or `baggage` when there are any. Empty outside any span."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    return carrier


def context_from(headers: Iterable[tuple[str, bytes | str]] | Mapping[str, str] | None) -> Context:
    """The context a message's headers carry (Kafka's are pairs of name and bytes; the outbox's a
    mapping). Headers without a valid `traceparent` give an empty context: the span that follows
    starts a trace of its own."""
    if not headers:
        return Context()
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    carrier = {name.lower(): value.decode("latin-1") if isinstance(value, bytes) else value for name, value in pairs}
    return propagate.extract(carrier, context=Context())


TRACE_HEADERS = ("traceparent", "tracestate")


def trace_headers(headers: Iterable[tuple[str, bytes]] | None) -> dict[str, str]:
    """The W3C trace headers among a Kafka message's, to carry on to a message made from it."""
    return {name: value.decode("latin-1") for name, value in headers or () if name in TRACE_HEADERS}


def kafka_headers(headers: Mapping[str, object]) -> list[tuple[str, bytes]] | None:
    """An outbox row's headers as the Kafka client takes them."""
    return [(name, str(value).encode()) for name, value in headers.items()] if headers else None


def _tracer_or_fail() -> Tracer:
    if _tracer is None:
        raise RuntimeError("tracing is off: check services.tracing.enabled() first")
    return _tracer


def _event_attributes(envelope: Envelope, topic: str) -> dict[str, str]:
    return {
        "messaging.system": "kafka",
        "messaging.destination.name": topic,
        "messaging.message.id": str(envelope.event_id),
        "messaging.kafka.message.key": envelope.dossier_id,
        "motcua.event.type": envelope.type,
        "motcua.dossier_id": envelope.dossier_id,
        "motcua.correlation_id": str(envelope.correlation_id),
    }


@contextmanager
def creating(envelope: Envelope, topic: str) -> Iterator[str]:
    """A `create <type>` span (PRODUCER) for an event written to the outbox, current while the
    caller writes it; gives the outbox row's headers (JSON text) carrying the span's context."""
    with _tracer_or_fail().start_as_current_span(
        f"create {envelope.type}",
        kind=SpanKind.PRODUCER,
        attributes={**_event_attributes(envelope, topic), "messaging.operation.type": "create"},
    ):
        yield json.dumps(headers_for())


def created(envelope: Envelope, topic: str) -> str:
    """The outbox row's headers of one event of a batch: a `create <type>` span started and ended
    at once (the batch is written in one statement afterwards)."""
    span = _tracer_or_fail().start_span(
        f"create {envelope.type}",
        kind=SpanKind.PRODUCER,
        attributes={**_event_attributes(envelope, topic), "messaging.operation.type": "create"},
    )
    try:
        return json.dumps(headers_for(set_span_in_context(span)))
    finally:
        span.end()


def sending(headers: Mapping[str, str], topic: str, key: str) -> Span:
    """A `send <topic>` span (PRODUCER) of the relay for one outbox row, under the span that
    created the row; the caller ends it once the broker has acknowledged the message."""
    return _tracer_or_fail().start_span(
        f"send {topic}",
        context=context_from(headers),
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": topic,
            "messaging.kafka.message.key": key,
            "messaging.operation.type": "send",
        },
    )


_OFF: AbstractContextManager[None] = nullcontext()


def resumed(
    name: str, traceparent: str | None, attributes: Mapping[str, AttributeValue] | None = None
) -> AbstractContextManager[object]:
    """A span for work done later on something recorded inside a trace (a notice sent by notify's
    dispatcher), a child of the span it was recorded in (its stored `traceparent`), current while
    the work runs; without one, a trace of its own. A null context while tracing is off."""
    if _tracer is None:
        return _OFF
    context = context_from({"traceparent": traceparent} if traceparent else None)
    return _tracer.start_as_current_span(name, context=context, kind=SpanKind.INTERNAL, attributes=attributes)


@contextmanager
def processing(
    headers: Iterable[tuple[str, bytes]] | None,
    envelope: Envelope,
    *,
    topic: str,
    partition: int,
    offset: int,
    consumer_group: str,
) -> Iterator[Span]:
    """A `process <type>` span (CONSUMER) around a consumer's handler, a child of the span that
    created the event (from the message's `traceparent`); current while the handler runs, so the
    events it emits are created under it. An exception is recorded on the span and raised on."""
    with _tracer_or_fail().start_as_current_span(
        f"process {envelope.type}",
        context=context_from(headers),
        kind=SpanKind.CONSUMER,
        attributes={
            **_event_attributes(envelope, topic),
            "messaging.operation.type": "process",
            "messaging.consumer.group.name": consumer_group,
            "messaging.destination.partition.id": str(partition),
            "messaging.kafka.offset": offset,
        },
    ) as span:
        yield span
