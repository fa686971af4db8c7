"""One dossier's trace, over the real stack: the four services (and the console) run as processes
writing their spans to a file (OTEL_TRACES_FILE), a dossier is filed at the counter and flows
through routing, deadline and notify, and one trace holds it all, each Kafka hop a child of the
span that created the event on the other side."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import Browser

from conftest import Identities, free_port
from infra.processes import SERVICES, console_env, start_console
from tests.conftest import BIRTH_GROUP, Console, Screenshots, System, eventually, running
from tests.test_web_counter import receive_through_the_form

# Every process appends to the one file; the SDK's batches leave every fifth of a second.
TRACED = {"OTEL_BSP_SCHEDULE_DELAY": "200"}


@pytest.fixture(scope="module")
def spans_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("traces") / "spans.jsonl"


@pytest.fixture(scope="module")
def traced(
    migrated: dict[str, str], identities: Identities, spans_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    env = {**migrated, **TRACED, "OTEL_TRACES_FILE": str(spans_file)}
    with running(env, tmp_path_factory.mktemp("logs"), identities) as system:
        yield system


@pytest.fixture(scope="module")
def traced_console(traced: System, chromium_browser: Browser, spans_file: Path) -> Iterator[Console]:
    port = free_port()
    urls = {name: traced.url(name) for name in SERVICES}
    env = console_env(traced.env, urls, port, Fernet.generate_key().decode(), **TRACED, OTEL_TRACES_FILE=str(spans_file))
    process = start_console(env, port, traced.logs / "web.log")
    try:
        yield Console(process, chromium_browser, traced.identities)
    finally:
        process.stop()


def read_spans(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def dossier_trace(path: Path, dossier_id: str) -> list[dict[str, Any]]:
    """Every span of the trace in which intake created the dossier's `dossier_received` event."""
    spans = read_spans(path)
    created = [
        s
        for s in spans
        if s["service"] == "intake" and s["kind"] == "PRODUCER" and s["attributes"].get("motcua.dossier_id") == dossier_id
    ]
    if not created:
        return []
    return [s for s in spans if s["trace_id"] == created[0]["trace_id"]]


def test_one_dossiers_trace_holds_the_counter_request_routing_deadline_and_notify(traced: System, spans_file: Path) -> None:
    dossier = traced.submit(BIRTH_GROUP)
    dossier_id = dossier["id"]
    eventually(
        lambda: (n := traced.get("notify", f"/dossiers/{dossier_id}/notices")) and n[0]["status"] == "sent",
        what="the receipt notice sent",
    )
    eventually(lambda: (d := traced.get("deadline", f"/dossiers/{dossier_id}/deadlines")) and len(d) == 2, what="both deadlines")

    def whole_trace() -> list[dict[str, Any]] | None:
        trace = dossier_trace(spans_file, dossier_id)
        consumed = {s["service"] for s in trace if s["kind"] == "CONSUMER"}
        delivered = [s for s in trace if s["name"] == "process notify.notice_sent"]
        # A send span ends when the broker's acknowledgement is back, which may be after the consumer read the message.
        sent = {s["parent_span_id"] for s in trace if s["attributes"].get("messaging.operation.type") == "send"}
        everything_sent = all(s["parent_span_id"] in sent for s in trace if s["kind"] == "CONSUMER")
        return trace if consumed >= {"routing", "deadline", "notify"} and delivered and everything_sent else None

    trace = eventually(
        whole_trace, timeout=30, what="spans of routing, deadline, notify and the notice sent in the dossier's trace"
    )
    by_id = {s["span_id"]: s for s in trace}
    assert {s["service"] for s in trace} >= {"intake", "routing", "deadline", "notify"}

    # The trace starts at the counter: the officer's request to intake is its root.
    (root,) = [s for s in trace if s["parent_span_id"] is None]
    assert root["service"] == "intake" and root["kind"] == "SERVER" and root["name"] == "POST /dossiers"
    assert root["attributes"]["http.response.status_code"] == 201

    # Each event is applied in a process span whose parent is the span that created it, in the
    # service that emitted it: the traceparent crossed Kafka in the message's headers.
    processed = [s for s in trace if s["kind"] == "CONSUMER"]
    for process in processed:
        created = by_id[process["parent_span_id"]]
        assert created["kind"] == "PRODUCER" and created["name"] == process["name"].replace("process ", "create ", 1)
        assert created["service"] != process["service"]
        # one of the emitting service's own topics: its stage, or a private stream (intake's contacts)
        assert created["attributes"]["messaging.destination.name"].split(".")[-2] == created["service"]
        assert created["attributes"]["messaging.message.id"] == process["attributes"]["messaging.message.id"]
    # Each event was sent by its service's relay in a send span under the span that created it.
    sends = [s for s in trace if s["kind"] == "PRODUCER" and s["attributes"].get("messaging.operation.type") == "send"]
    assert {by_id[s["parent_span_id"]]["span_id"] for s in sends} >= {p["parent_span_id"] for p in processed}

    # The chain goes on across services: routing assigns the step while applying intake's event,
    # and deadline starts the step's clock while applying routing's.
    assigned = next(s for s in trace if s["service"] == "routing" and s["name"] == "create routing.step_assigned")
    assert by_id[assigned["parent_span_id"]]["name"] == "process dossier.received"
    step_clock = [
        s for s in processed if s["service"] == "deadline" and by_id[s["parent_span_id"]]["span_id"] == assigned["span_id"]
    ]
    assert step_clock, "deadline applied routing's step_assigned in the same trace"

    # The receipt notice, sent later by notify's dispatcher, is in the trace too: its delivery
    # under the span that queued it, and intake's timeline entry under the delivery.
    # Notify queues it on whichever of the receipt and the contact (its own stream) arrives second.
    delivery = next(s for s in trace if s["name"] == "deliver sms notice")
    queued = by_id[delivery["parent_span_id"]]
    assert delivery["service"] == "notify" and queued in processed and queued["service"] == "notify"
    assert queued["name"] in {"process dossier.received", "process dossier.contact_given"}
    notice_sent = next(s for s in trace if s["name"] == "create notify.notice_sent")
    assert notice_sent["parent_span_id"] == delivery["span_id"]
    assert any(s["service"] == "intake" and s["parent_span_id"] == notice_sent["span_id"] for s in processed)

    # The statements are in the trace too, without their parameters.
    statements = [s for s in trace if s["attributes"].get("db.system") == "postgresql" or "db.system.name" in s["attributes"]]
    assert {s["service"] for s in statements} >= {"intake", "routing", "deadline", "notify"}
    assert not any("db.statement.parameters" in s["attributes"] for s in statements)
    assert "079190001234" not in spans_file.read_text()  # the applicant's citizen id never reaches a span
    # Readiness probes (every process was asked while starting) make no trace.
    assert not [s for s in read_spans(spans_file) if s["name"] == "GET /readyz"]


def test_a_dossier_received_through_the_console_is_one_trace_from_the_officers_form_post(
    traced: System, traced_console: Console, spans_file: Path, shot: Screenshots
) -> None:
    page = traced_console.page()
    traced_console.sign_in(page, "counter", "/tiep-nhan")
    path = receive_through_the_form(page, shot)
    dossier_id = path.rstrip("/").rsplit("/", 1)[-1]  # /ho-so/<id>

    def whole_trace() -> list[dict[str, Any]] | None:
        trace = dossier_trace(spans_file, dossier_id)
        return trace if {s["service"] for s in trace if s["kind"] == "CONSUMER"} >= {"routing", "deadline", "notify"} else None

    trace = eventually(whole_trace, timeout=60, what="the dossier's trace through the four services")
    by_id = {s["span_id"]: s for s in trace}
    (root,) = [s for s in trace if s["parent_span_id"] is None]
    assert root["service"] == "web" and root["kind"] == "SERVER" and root["attributes"]["http.request.method"] == "POST"
    # The console's call to intake carried the traceparent: intake's request is a child of it.
    received = next(s for s in trace if s["service"] == "intake" and s["name"] == "POST /dossiers")
    call = by_id[received["parent_span_id"]]
    assert call["service"] == "web" and call["kind"] == "CLIENT" and call["parent_span_id"] == root["span_id"]
