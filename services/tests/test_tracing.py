"""Traces across the outbox, the relay and the consumer, without I/O: the context an event was
created in travels in its Kafka headers (W3C `traceparent`), the relay's send and the consumer's
process spans are its children, events emitted while handling go on in the same trace, log lines
carry the ids; and with tracing off, no header, no span."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id
from sqlalchemy import MetaData

from services import tracing
from services.events import Envelope
from services.events.schemas import StepAssigned
from services.logging import JsonFormatter, correlation_id_var
from services.messaging import IdempotentConsumer, Outbox, OutboxRelay, Subscription, messaging_tables
from services.settings import ServiceSettings
from services.tracing_export import JsonLinesSpanExporter, build_provider, sampler

# version 00, trace id, parent span id, flags: sampled (01), and the SDK's random trace id (02) with it
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-0[13]$")
tables = messaging_tables(MetaData(schema="tracing_test"))


def step_assigned(dossier_id: str = "d-1", causation: Envelope | None = None) -> Envelope:
    event = StepAssigned(
        step_id="residence",
        agency_code="CA-XA",
        agency_name="Công an xã",
        budget_hours=16,
        assigned_at=datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
    )
    return event.envelope(dossier_id=dossier_id, producer="routing", causation=causation)


class Spans:
    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.exporter = exporter

    def named(self, name: str) -> ReadableSpan:
        (span,) = [s for s in self.exporter.get_finished_spans() if s.name == name]
        return span

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.exporter.get_finished_spans()]


@pytest.fixture
def spans() -> Iterator[Spans]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    try:
        yield Spans(exporter)
    finally:
        tracing.install(None)


def ids(span: ReadableSpan) -> tuple[str, str]:
    return format_trace_id(span.context.trace_id), format_span_id(span.context.span_id)


def parent_of(span: ReadableSpan) -> str | None:
    return format_span_id(span.parent.span_id) if span.parent is not None else None


class FakeConnection:
    """The driver connection the outbox writes on: keeps each statement's arguments and the span
    that was current when it ran."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.current: list[tuple[str, str] | None] = []

    async def execute(self, statement: str, *args: Any) -> None:
        self.rows.append(args)
        self.current.append(tracing.current_ids())

    async def executemany(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        self.rows.extend(rows)


@pytest.fixture
def connection(monkeypatch: pytest.MonkeyPatch) -> FakeConnection:
    fake = FakeConnection()

    async def driver_connection(session: object) -> FakeConnection:
        return fake

    monkeypatch.setattr("services.messaging.outbox.driver_connection", driver_connection)
    return fake


def _event() -> StepAssigned:
    return StepAssigned(
        step_id="residence",
        agency_code="CA-XA",
        agency_name="Công an xã",
        budget_hours=16,
        assigned_at=datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
    )


def outbox(service: str = "routing") -> Outbox:
    return Outbox(tables, service=service, topic_prefix="motcua")


async def test_an_emitted_event_keeps_the_traceparent_of_its_create_span_in_the_outbox_row(
    spans: Spans, connection: FakeConnection
) -> None:
    envelope = await outbox().emit(None, _event(), dossier_id="d-1")  # type: ignore[arg-type]
    headers = json.loads(connection.rows[0][4])
    create = spans.named("create routing.step_assigned")
    trace_id, span_id = ids(create)
    assert TRACEPARENT.match(headers["traceparent"]).groups() == (trace_id, span_id)  # type: ignore[union-attr]
    assert create.kind is SpanKind.PRODUCER and create.parent is None  # outside any request: a trace of its own
    assert connection.current == [(trace_id, span_id)]  # the insert ran inside the create span
    assert create.attributes["messaging.destination.name"] == "motcua.routing.events"
    assert create.attributes["messaging.message.id"] == str(envelope.event_id)
    assert create.attributes["motcua.dossier_id"] == "d-1"


async def test_a_batch_of_events_each_starts_its_own_trace(spans: Spans, connection: FakeConnection) -> None:
    await outbox("deadline").emit_many(None, [("d-1", _event()), ("d-2", _event())])  # type: ignore[arg-type]
    parents = [TRACEPARENT.match(json.loads(row[4])["traceparent"]).groups() for row in connection.rows]  # type: ignore[union-attr]
    assert len({trace_id for trace_id, _ in parents}) == 2
    assert {ids(s) for s in spans.exporter.get_finished_spans()} == set(parents)


async def test_with_tracing_off_the_outbox_row_has_no_header_and_nothing_is_traced(connection: FakeConnection) -> None:
    assert not tracing.enabled()
    await outbox().emit(None, _event(), dossier_id="d-1")  # type: ignore[arg-type]
    await outbox().emit_many(None, [("d-2", _event())])  # type: ignore[arg-type]
    assert [row[4] for row in connection.rows] == ["{}", "{}"]
    assert tracing.current_ids() is None
    assert tracing.http_telemetry()["tracing"] is False  # FastAPI's own spans too


def test_a_traceparent_survives_kafka_headers_as_the_parent_of_the_consumer_span(spans: Spans) -> None:
    envelope = step_assigned()
    with tracing.creating(envelope, "motcua.routing") as headers:
        pass
    record_headers = tracing.kafka_headers(json.loads(headers))
    assert record_headers is not None and all(isinstance(v, bytes) for _, v in record_headers)
    with tracing.processing(record_headers, envelope, topic="motcua.routing", partition=3, offset=41, consumer_group="g"):
        pass
    create = spans.named("create routing.step_assigned")
    process = spans.named("process routing.step_assigned")
    assert process.kind is SpanKind.CONSUMER
    assert ids(process)[0] == ids(create)[0] and parent_of(process) == ids(create)[1]
    assert process.parent is not None and process.parent.is_remote  # it came over the wire
    assert process.attributes["messaging.kafka.offset"] == 41
    assert process.attributes["messaging.consumer.group.name"] == "g"


def test_an_event_emitted_while_handling_is_created_under_the_process_span(spans: Spans) -> None:
    first = step_assigned()
    with tracing.creating(first, "motcua.intake") as headers:
        pass
    with tracing.processing(
        tracing.kafka_headers(json.loads(headers)), first, topic="t", partition=0, offset=0, consumer_group="g"
    ):
        with tracing.creating(step_assigned(causation=first), "motcua.routing") as onward:
            pass
    finished = spans.exporter.get_finished_spans()
    first_create, onward_create, process = finished[0], finished[1], finished[2]
    assert process.name == "process routing.step_assigned"
    assert parent_of(onward_create) == ids(process)[1]
    assert {ids(s)[0] for s in finished} == {ids(first_create)[0]}  # one trace
    assert TRACEPARENT.match(json.loads(onward)["traceparent"]).group(2) == ids(onward_create)[1]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "headers",
    [None, [], [("traceparent", b"not a traceparent")], [("traceparent", b"00-" + b"0" * 32 + b"-" + b"0" * 16 + b"-01")]],
)
def test_a_message_without_a_valid_traceparent_is_processed_in_a_trace_of_its_own(
    spans: Spans, headers: list[tuple[str, bytes]] | None
) -> None:
    with tracing.processing(headers, step_assigned(), topic="t", partition=0, offset=0, consumer_group="g"):
        pass
    assert spans.named("process routing.step_assigned").parent is None


def test_only_the_w3c_trace_headers_of_a_message_are_carried_on_to_its_dead_letter() -> None:
    headers = [("traceparent", b"00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-01"), ("consumer", b"x"), ("tracestate", b"k=v")]
    assert tracing.trace_headers(headers) == {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01", "tracestate": "k=v"}
    assert tracing.trace_headers(None) == {}


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(
        self, topic: str, *, value: bytes, key: bytes, headers: list[tuple[str, bytes]] | None
    ) -> asyncio.Future[None]:
        self.sent.append({"topic": topic, "key": key, "headers": headers, "current": tracing.current_ids()})
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


class FakeRelayConnection:
    """The relay's own connection: the lease holds, and the outbox has the given rows."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.marked: list[Any] = []

    async def fetchval(self, statement: str, *args: Any) -> int:
        return 1

    async def fetch(self, statement: str, *args: Any) -> list[dict[str, Any]]:
        return self.rows

    async def execute(self, statement: str, *args: Any) -> None:
        self.marked.append(args)

    def transaction(self) -> FakeRelayConnection:
        return self

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


def settings(service: str = "routing") -> ServiceSettings:
    return ServiceSettings(service_name=service, oidc_issuer="http://127.0.0.1/realms/test")  # type: ignore[call-arg]


async def test_the_relay_sends_the_rows_headers_to_kafka_in_a_send_span_under_the_create_span(spans: Spans) -> None:
    envelope = step_assigned()
    with tracing.creating(envelope, "motcua.routing") as headers:
        pass
    rows = [
        {"id": 1, "topic": "motcua.routing", "key": "d-1", "message": envelope.model_dump_json(), "headers": headers},
        {"id": 2, "topic": "motcua.dead-letters", "key": "d-2", "message": "{}", "headers": "{}"},
    ]
    producer = FakeProducer()
    relay = OutboxRelay(settings(), engine=None, tables=tables)  # type: ignore[arg-type]
    assert await relay.publish_batch(producer, FakeRelayConnection(rows), epoch=1) == 2  # type: ignore[arg-type]
    assert producer.sent[0]["headers"] == [("traceparent", json.loads(headers)["traceparent"].encode())]
    assert producer.sent[1]["headers"] is None
    create = spans.named("create routing.step_assigned")
    send = spans.named("send motcua.routing")
    assert send.kind is SpanKind.PRODUCER and parent_of(send) == ids(create)[1] and ids(send)[0] == ids(create)[0]
    assert spans.named("send motcua.dead-letters").parent is None  # a row created outside any trace


async def test_the_relay_adds_no_span_and_sends_no_header_with_tracing_off() -> None:
    rows = [{"id": 1, "topic": "motcua.routing", "key": "d-1", "message": "{}", "headers": "{}"}]
    producer = FakeProducer()
    relay = OutboxRelay(settings(), engine=None, tables=tables)  # type: ignore[arg-type]
    assert await relay.publish_batch(producer, FakeRelayConnection(rows), epoch=1) == 1  # type: ignore[arg-type]
    assert producer.sent == [{"topic": "motcua.routing", "key": b"d-1", "headers": None, "current": None}]


def consumer_of(handler: Any) -> IdempotentConsumer:
    subscription = Subscription("intake-events", ("intake",), {"routing.step_assigned": handler})
    return IdempotentConsumer(settings(), None, outbox(), subscription)  # type: ignore[arg-type]


def record(envelope: Envelope, headers: list[tuple[str, bytes]] | None) -> ConsumerRecord:
    value = envelope.to_bytes()
    return ConsumerRecord("motcua.intake", 2, 17, 0, 0, envelope.dossier_id.encode(), value, None, 0, len(value), headers or [])


async def test_the_consumer_runs_the_handler_in_a_process_span_under_the_events_create_span_with_its_correlation_id(
    spans: Spans,
) -> None:
    envelope = step_assigned()
    with tracing.creating(envelope, "motcua.intake") as headers:
        pass
    seen: list[Any] = []

    async def handler(session: object, given: Envelope) -> None:
        seen.append((tracing.current_ids(), correlation_id_var.get()))

    consumer = consumer_of(handler)
    await consumer._handle(None, record(envelope, tracing.kafka_headers(json.loads(headers))), envelope)  # type: ignore[arg-type]
    process = spans.named("process routing.step_assigned")
    assert seen == [(ids(process), str(envelope.correlation_id))]
    assert parent_of(process) == ids(spans.named("create routing.step_assigned"))[1]
    assert process.attributes["messaging.consumer.group.name"] == consumer.group_id
    assert consumer.group_id.endswith(".routing.intake-events")
    assert correlation_id_var.get() is None  # only while the handler runs


async def test_a_failing_handlers_span_records_the_error(spans: Spans) -> None:
    async def handler(session: object, given: Envelope) -> None:
        raise ValueError("bad step")

    envelope = step_assigned()
    with pytest.raises(ValueError):
        await consumer_of(handler)._handle(None, record(envelope, None), envelope)  # type: ignore[arg-type]
    process = spans.named("process routing.step_assigned")
    assert process.status.status_code.name == "ERROR"
    assert [e.name for e in process.events] == ["exception"]


async def test_with_tracing_off_the_consumer_only_sets_the_correlation_id() -> None:
    seen: list[Any] = []

    async def handler(session: object, given: Envelope) -> None:
        seen.append((tracing.current_ids(), correlation_id_var.get()))

    envelope = step_assigned()
    await consumer_of(handler)._handle(None, record(envelope, None), envelope)  # type: ignore[arg-type]
    assert seen == [(None, str(envelope.correlation_id))]


def log_line(message: str) -> dict[str, Any]:
    return json.loads(JsonFormatter("routing").format(logging.LogRecord("x", logging.INFO, __file__, 1, message, None, None)))


def test_a_log_line_carries_the_trace_and_span_ids_and_the_correlation_id_while_they_are_set(spans: Spans) -> None:
    outside = log_line("outside")
    assert "trace_id" not in outside and "span_id" not in outside and "correlation_id" not in outside
    envelope = step_assigned()
    token = correlation_id_var.set(str(envelope.correlation_id))
    try:
        with tracing.processing(None, envelope, topic="t", partition=0, offset=0, consumer_group="g") as span:
            inside = log_line("inside")
            context = span.get_span_context()
    finally:
        correlation_id_var.reset(token)
    assert inside["trace_id"] == format_trace_id(context.trace_id)
    assert inside["span_id"] == format_span_id(context.span_id)
    assert inside["correlation_id"] == str(envelope.correlation_id)


def test_statements_and_calls_outside_any_trace_are_not_sampled_and_all_else_is(spans: Spans) -> None:
    tracer = tracing.provider().get_tracer("test")  # type: ignore[union-attr]
    with tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT):  # a relay poll
        pass
    with tracer.start_as_current_span("POST /dossiers", kind=SpanKind.SERVER):
        with tracer.start_as_current_span("INSERT", kind=SpanKind.CLIENT):
            pass
    assert spans.names == ["INSERT", "POST /dossiers"]


def test_probes_are_not_traced() -> None:
    exclude = tracing.http_telemetry()["exclude"]
    assert exclude is not None
    assert [exclude({"type": "http", "path": p}) for p in ("/healthz", "/readyz", "/metrics")] == [True, True, True]
    assert not exclude({"type": "http", "path": "/dossiers"})


def test_the_environment_turns_tracing_on() -> None:
    assert not tracing.wanted({})
    assert tracing.wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert tracing.wanted({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"})
    assert tracing.wanted({"OTEL_TRACES_FILE": "/tmp/spans.jsonl"})
    assert not tracing.wanted({"OTEL_TRACES_FILE": "/tmp/spans.jsonl", "OTEL_SDK_DISABLED": "true"})


def test_the_span_file_gets_one_json_line_per_span_from_each_process(spans: Spans, tmp_path: Path) -> None:
    with tracing.processing(None, step_assigned(), topic="t", partition=0, offset=0, consumer_group="g"):
        pass
    (span,) = spans.exporter.get_finished_spans()
    path = tmp_path / "spans.jsonl"
    for _ in range(2):  # two processes appending to one file
        JsonLinesSpanExporter(str(path)).export([span, span])
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 4
    assert lines[0]["name"] == "process routing.step_assigned" and lines[0]["kind"] == "CONSUMER"
    assert (lines[0]["trace_id"], lines[0]["span_id"]) == ids(span) and lines[0]["parent_span_id"] is None
    assert lines[0]["attributes"]["motcua.dossier_id"] == "d-1"


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector in the test process: keeps each request's path, type and body."""

    received: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Collector.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_with_an_otlp_endpoint_spans_are_exported_over_http_to_the_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    try:
        provider = build_provider("intake", {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint})
        tracing.install(provider)
        with tracing.creating(step_assigned("d-9"), "motcua.intake.events"):
            pass
        assert provider.force_flush(5000)
    finally:
        tracing.install(None)
        server.shutdown()
    ((path, content_type, body),) = Collector.received
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    request = ExportTraceServiceRequest.FromString(body)
    (resource_spans,) = request.resource_spans
    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert resource["service.name"] == "intake"
    (span,) = [s for scope in resource_spans.scope_spans for s in scope.spans]
    assert span.name == "create routing.step_assigned"
