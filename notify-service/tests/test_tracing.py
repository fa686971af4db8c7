"""A notice is sent later, by the dispatcher, yet its sending shows in the dossier's trace: the
notice keeps the traceparent of the span it was recorded in, and its delivery runs in a span under
it (no database, no Kafka)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import format_span_id, format_trace_id

from notify.application.dispatching import dispatch_once
from notify.application.notices import remember_receipt
from notify.application.ports import Outcome, Outgoing
from services import tracing
from services.events.schemas import NoticeSent

from .conftest import MemoryNotify, receive
from .test_application import received


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.install(None)


async def test_a_notice_is_delivered_in_a_span_under_the_one_it_was_recorded_in(
    memory: MemoryNotify, spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    dossier_id = str(uuid4())
    envelope = received(dossier_id)
    with tracing.creating(envelope, "motcua.intake.events") as headers:  # as intake's event was created
        pass
    record_headers = tracing.kafka_headers(json.loads(headers))
    with tracing.processing(record_headers, envelope, topic="motcua.intake.events", partition=0, offset=0, consumer_group="g"):
        await remember_receipt(memory.work, memory.drafting, envelope)  # written with its applicant: still read
        traceparent = tracing.headers_for()["traceparent"]
    (notice,) = memory.notices.of(dossier_id)
    notice["traceparent"] = traceparent  # what the repository keeps with tracing on

    sent_in: list[Any] = []
    send = memory.channel.send

    async def traced_send(outgoing: Outgoing) -> Outcome:
        sent_in.append(tracing.current_ids())
        return await send(outgoing)

    monkeypatch.setattr(memory.channel, "send", traced_send)
    assert await dispatch_once(memory.uow, memory.outlets({}), batch=20, lease_seconds=60, retries=memory.retries) == 1

    finished = {span.name: span for span in spans.get_finished_spans()}
    process, delivery = finished["process dossier.received"], finished["deliver sms notice"]
    assert delivery.parent is not None and delivery.parent.span_id == process.context.span_id
    assert delivery.context.trace_id == process.context.trace_id
    assert delivery.attributes["motcua.dossier_id"] == dossier_id
    assert sent_in == [(format_trace_id(delivery.context.trace_id), format_span_id(delivery.context.span_id))]
    assert len(memory.events.of(NoticeSent)) == 1


async def test_without_tracing_a_notice_is_delivered_with_no_span(memory: MemoryNotify) -> None:
    dossier_id = str(uuid4())
    await receive(memory, received(dossier_id))
    assert await dispatch_once(memory.uow, memory.outlets({}), batch=20, lease_seconds=60, retries=memory.retries) == 1
    assert memory.notices.of(dossier_id)[0]["status"] == "sent" and memory.notices.of(dossier_id)[0]["traceparent"] is None
