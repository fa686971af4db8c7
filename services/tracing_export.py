"""Where a process's spans go, read from the environment at start (the SDK and exporters are
imported only when tracing is on):

- `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): OTLP over HTTP to a
  collector, with the SDK's own settings (`OTEL_EXPORTER_OTLP_HEADERS`, `..._TIMEOUT`,
  `OTEL_BSP_SCHEDULE_DELAY`, ...);
- `OTEL_TRACES_FILE`: one JSON object per span and line, appended to that file (what the tests
  read; several processes may share one file);
- neither, or `OTEL_SDK_DISABLED=true`: tracing is off, and costs nothing.

When on, the process's HTTP server spans (FastAPI's own telemetry, given the provider by
`services.web`), its statements (asyncpg, under SQLAlchemy too), its outgoing HTTP calls (httpx)
and its messaging spans (`services.tracing`) go to one provider whose resource names the service.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, TraceState, format_span_id, format_trace_id
from opentelemetry.util.types import Attributes

from services import tracing

log = logging.getLogger(__name__)

ENDPOINT_VARIABLES = tracing.ENDPOINT_VARIABLES
FILE_VARIABLE = tracing.FILE_VARIABLE


class SkipLoneClientSpans(Sampler):
    """Samples every trace a request, an event or a relay send starts, and drops a CLIENT span
    (a statement, an outgoing HTTP call) that would start a trace of its own: the relay's polls
    and lease renewals, the backlog gauges, the workers' claims. They run many times a second
    and belong to no dossier's flow. Children follow their parent's decision (`ParentBased`)."""

    def should_sample(
        self,
        parent_context: Any,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if kind is SpanKind.CLIENT:
            return SamplingResult(Decision.DROP)
        return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, trace_state)

    def get_description(self) -> str:
        return "SkipLoneClientSpans"


def sampler() -> Sampler:
    return ParentBased(root=SkipLoneClientSpans())


def span_record(span: ReadableSpan) -> dict[str, Any]:
    """One span as a flat JSON object: ids in hex as W3C writes them, times in Unix nanoseconds."""
    context = span.get_span_context()
    assert context is not None
    return {
        "trace_id": format_trace_id(context.trace_id),
        "span_id": format_span_id(context.span_id),
        "parent_span_id": format_span_id(span.parent.span_id) if span.parent is not None else None,
        "name": span.name,
        "kind": span.kind.name,
        "service": span.resource.attributes.get("service.name"),
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "links": [
            {"trace_id": format_trace_id(link.context.trace_id), "span_id": format_span_id(link.context.span_id)}
            for link in span.links
        ],
        "resource": dict(span.resource.attributes),
    }


class JsonLinesSpanExporter(SpanExporter):
    """Appends each span as one JSON line (`span_record`) to a file. Each batch is one write on a
    file opened for appending, so processes sharing the file never interleave their lines."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        text = "".join(json.dumps(span_record(span), ensure_ascii=False, default=str) + "\n" for span in spans)
        try:
            with self._lock:
                descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(descriptor, text.encode())
                finally:
                    os.close(descriptor)
        except OSError as exc:
            log.warning("cannot write spans to %s (%s)", self.path, exc)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def build_provider(service: str, env: Mapping[str, str]) -> TracerProvider:
    """The provider for `service` with the exporters the environment names (see the module)."""
    resource = Resource.create({"service.name": service, "service.instance.id": f"{socket.gethostname()}:{os.getpid()}"})
    provider = TracerProvider(resource=resource, sampler=sampler())
    if any(env.get(name) for name in ENDPOINT_VARIABLES):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # reads its endpoint and headers itself
    if path := env.get(FILE_VARIABLE):
        provider.add_span_processor(BatchSpanProcessor(JsonLinesSpanExporter(path)))
    return provider


def configure_tracing(service: str, env: Mapping[str, str] | None = None) -> TracerProvider | None:
    """Turn tracing on for this process when the environment asks for it: the provider, or None
    (and nothing installed) when it is off. Call once, at start, before the app is built."""
    env = os.environ if env is None else env
    if not tracing.wanted(env):
        return None
    if (installed := tracing.provider()) is not None:
        return installed  # type: ignore[return-value]
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    provider = build_provider(service, env)
    trace.set_tracer_provider(provider)
    # Statements without their parameters: those carry citizens' names, ids and phone numbers.
    AsyncPGInstrumentor(capture_parameters=False).instrument(tracer_provider=provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    tracing.install(provider)
    log.info("tracing on", extra={"fields": {"exporters": [v for v in (*ENDPOINT_VARIABLES, FILE_VARIABLE) if env.get(v)]}})
    return provider


def shutdown_tracing() -> None:
    """Export what is still buffered and stop the exporters (a process about to exit)."""
    installed = tracing.provider()
    if isinstance(installed, TracerProvider):
        installed.shutdown()
