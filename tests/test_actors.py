"""Who did what, on every record: a dossier received at the counter, handled by a specialist by
hand and by two agencies' systems, and returned at the counter. Its events name each actor (from
the token, never from the body), the control sheet (form 5) names the officers, and each service's
append-only audit trail holds the same names, with the reads of the dossier's personal data."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from conftest import H30
from services.events import Envelope
from tests.conftest import BIRTH_GROUP, System, eventually, kafka_records

COUNTER = "Nguyễn Thị Tiếp"  # the `counter` test officer
SPECIALIST = "Lê Thị Mai"  # the `specialist` test officer, UBND-XA


async def events_of(env: dict[str, str], dossier_id: str) -> list[Envelope]:
    records = await kafka_records(env)
    return [Envelope.from_bytes(r.value) for r in records if r.key and r.key.decode() == dossier_id]


def act(system: System, who: str, dossier_id: str, step_id: str, action: str, body: dict[str, Any] | None = None) -> None:
    url = f"{system.url('routing')}/agency/steps/{dossier_id}/{step_id}/{action}"
    answer = httpx.post(url, json=body or {}, headers=system.headers(who), timeout=10)
    assert answer.status_code == 200, (who, action, answer.text)


def step_state(system: System, dossier_id: str, step_id: str) -> str | None:
    route = system.get("routing", f"/dossiers/{dossier_id}/route")
    return next((s["state"] for s in route["steps"] if s["step_id"] == step_id), None) if route else None


def test_events_control_sheet_and_audit_trails_name_the_officers_who_acted(system: System) -> None:
    received = httpx.post(
        f"{system.url('intake')}/dossiers",
        json=BIRTH_GROUP,
        headers={**system.headers("counter"), "Idempotency-Key": str(uuid.uuid4())},
        timeout=30,
    )
    assert received.status_code == 201, received.text
    dossier_id = received.json()["id"]

    for step_id, who in (("civil-status", "specialist"), ("residence", "ca-xa"), ("health-insurance", "bhxh")):
        eventually(lambda s=step_id: step_state(system, dossier_id, s) == "assigned", what=f"{step_id} assigned")
        act(system, who, dossier_id, step_id, "accept")
        act(system, who, dossier_id, step_id, "complete", {"result_documents": [f"doc://{step_id}/1"]})
    eventually(lambda: (d := system.get("intake", f"/dossiers/{dossier_id}")) and d["status"] == 9, what="result ready")
    returned = httpx.post(
        f"{system.url('intake')}/dossiers/{dossier_id}/result-return",
        json={"method": "counter"},
        headers=system.headers("counter"),
        timeout=10,
    )
    assert returned.status_code == 200, returned.text

    envelopes = eventually(
        lambda: (
            (e := asyncio.run(events_of(system.env, dossier_id))) and any(x.type == "dossier.result_returned" for x in e) and e
        ),
        what="the dossier's events",
    )
    by_type: dict[str, list[Envelope]] = {}
    for envelope in envelopes:
        by_type.setdefault(envelope.type, []).append(envelope)

    receipt = by_type["dossier.received"][0].actor
    assert receipt is not None and (receipt.kind, receipt.name, receipt.unit) == ("officer", COUNTER, H30)
    accepted = {e.payload["step_id"]: e for e in by_type["routing.step_accepted"]}
    assert accepted["civil-status"].actor is not None
    assert (accepted["civil-status"].actor.kind, accepted["civil-status"].actor.name) == ("officer", SPECIALIST)
    assert accepted["civil-status"].actor.unit == "UBND-XA" and accepted["civil-status"].payload["officer"] == SPECIALIST
    assert accepted["residence"].actor is not None and accepted["residence"].actor.kind == "agency-system"
    assert accepted["residence"].actor.unit == "CA-XA"
    assert accepted["health-insurance"].actor is not None and accepted["health-insurance"].actor.unit == "BHXH"
    assigned = by_type["routing.step_assigned"][0].actor
    assert assigned is not None and (assigned.kind, assigned.name) == ("service", "routing"), (
        "a consumer's event is the service's"
    )
    back = by_type["dossier.result_returned"][0].actor
    assert back is not None and (back.kind, back.name) == ("officer", COUNTER)
    assert all(e.actor is not None for e in envelopes), "every event names who caused it"

    sheet = system.get("routing", f"/dossiers/{dossier_id}/route")
    acceptances = {h["step_id"]: h["actor"] for h in sheet["handovers"] if h["action"] == "accept"}
    assert SPECIALIST in acceptances["civil-status"], sheet["handovers"]

    intake_trail = system.http.get(f"{system.url('intake')}/audit-trail", params={"dossier_id": dossier_id}).json()
    changes = {(r["action"], r["actor_name"]) for r in intake_trail if not r["action"].startswith("read:")}
    assert ("dossier.received", COUNTER) in changes and ("dossier.result_returned", COUNTER) in changes
    reads = [r for r in intake_trail if r["action"].startswith("read:")]
    assert reads and {r["actor_name"] for r in reads} >= {"Vũ Kiểm Thử"}, "the `all` officer's reads of the dossier"
    routing_trail = system.http.get(f"{system.url('routing')}/audit-trail", params={"dossier_id": dossier_id}).json()
    accepted_by = {r["actor_name"] for r in routing_trail if r["action"] == "routing.step_accepted"}
    assert {SPECIALIST, "Công an xã (cư trú)", "Bảo hiểm xã hội"} <= accepted_by
