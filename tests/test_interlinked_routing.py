"""Interlinked handling over the real stack: intake and routing as real processes on the session's
Kafka and PostgreSQL, with real HTTP servers on loopback playing the LGSP, the police's own
system behind it, and the national portal. Officers and agencies' systems sign in to the session's
Keycloak: who may call what, on which dossiers and steps, and who is named as having acted."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from conftest import Identities, kafka_options
from services.events.schemas import DossierWithdrawn, SupplementReceived
from tests.conftest import BIRTH_GROUP, System, eventually
from tests.loopback import Loopback

CA_XA_SIGNING_KEY = "ca-xa-hmac-key"


@pytest.fixture(scope="module")
def loopback() -> Iterator[Loopback]:
    server = Loopback().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def routed(
    migrated: dict[str, str], identities: Identities, loopback: Loopback, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    """Intake and routing, routing configured with four agencies, the commune's police behind the LGSP."""
    folder = tmp_path_factory.mktemp("routing")
    agencies = folder / "agencies.json"
    agencies.write_text(
        json.dumps(
            {
                "agencies": [
                    {"code": "UBND-XA", "name": "UBND xã (hộ tịch)", "client_id": "ubnd-xa"},
                    {
                        "code": "CA-XA",
                        "name": "Công an xã (cư trú)",
                        "client_id": "ca-xa",
                        "inbound_secret_env": "T_HMAC_CA",
                        "lgsp_endpoint": f"{loopback.url}/agency/ca-xa/steps",
                    },
                    {"code": "BHXH", "name": "Bảo hiểm xã hội", "client_id": "bhxh"},
                    {"code": "CA-TINH", "name": "Công an tỉnh", "client_id": "ca-tinh"},
                ]
            }
        ),
        encoding="utf-8",
    )
    env = {
        **migrated,
        "ROUTING_AGENCIES_FILE": str(agencies),
        "T_HMAC_CA": CA_XA_SIGNING_KEY,
        "LGSP_TOKEN_URL": f"{loopback.url}/lgsp/token",
        "LGSP_CLIENT_ID": Loopback.LGSP_CLIENT[0],
        "LGSP_CLIENT_SECRET": Loopback.LGSP_CLIENT[1],
        "NATIONAL_PORTAL_URL": f"{loopback.url}/portal",
        "NATIONAL_PORTAL_TOKEN": "portal-token",
        "NATIONAL_PORTAL_RECONCILE_SECONDS": "3600",
        "EXCHANGE_TIMEOUT_SECONDS": "2",
        "EXCHANGE_BACKOFF_BASE_SECONDS": "0.2",
        "EXCHANGE_BACKOFF_CAP_SECONDS": "1",
        "EXCHANGE_MAX_ATTEMPTS": "6",
        "EXCHANGE_POLL_SECONDS": "0.2",
        "BREAKER_THRESHOLD": "3",
        "BREAKER_RESET_SECONDS": "1",
    }
    system = System(env, folder / "logs", identities)
    try:
        system.start("intake")
        system.start("routing")
        yield system
    finally:
        system.stop_all()


# ---------------------------------------------------------------- helpers


class Agency:
    """A caller of the agencies' REST API: an agency's own system (its client id: a token from
    Keycloak by client credentials) or an agency's officer (a test officer's key)."""

    def __init__(self, system: System, who: str) -> None:
        self.base = system.url("routing")
        self.auth = system.identities.auth(who)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.base}{path}", auth=self.auth, params=params, timeout=10)

    def act(self, dossier_id: str, step_id: str, action: str, **body: Any) -> httpx.Response:
        return httpx.post(f"{self.base}/agency/steps/{dossier_id}/{step_id}/{action}", auth=self.auth, json=body, timeout=10)


def route(system: System, dossier_id: str) -> dict[str, Any]:
    return system.get("routing", f"/dossiers/{dossier_id}/route")


def states(system: System, dossier_id: str) -> dict[str, str]:
    r = route(system, dossier_id)
    return {s["step_id"]: s["state"] for s in r["steps"]} if r else {}


def wait_states(system: System, dossier_id: str, expected: dict[str, str]) -> dict[str, Any]:
    eventually(lambda: states(system, dossier_id) == expected, timeout=30, what=f"steps {expected}")
    return route(system, dossier_id)


def received(system: System) -> str:
    dossier_id = system.submit(BIRTH_GROUP)["id"]
    wait_states(system, dossier_id, {"civil-status": "assigned", "residence": "waiting", "health-insurance": "waiting"})
    return dossier_id


def routing_events(system: System, dossier_id: str) -> list[dict[str, Any]]:
    """Every event routing published about one dossier, read back from Kafka in order."""

    async def read() -> list[dict[str, Any]]:
        topic = f"{system.env['TOPIC_PREFIX']}.routing.events"
        consumer = AIOKafkaConsumer(**kafka_options(system.env), enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [
                TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or await _partitions(consumer, topic)
            ]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            end = await consumer.end_offsets(partitions)
            found: list[dict[str, Any]] = []

            async def behind() -> bool:
                return any([await consumer.position(tp) < end[tp] for tp in partitions])

            while await behind():
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found += [json.loads(r.value) for r in records if r.key == dossier_id.encode()]
            return found
        finally:
            await consumer.stop()

    return asyncio.run(read())


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # noqa: SLF001 - the topic may be new to this client
    return consumer.partitions_for_topic(topic) or set()


def event_types(system: System, dossier_id: str) -> list[str]:
    return [e["type"] for e in routing_events(system, dossier_id)]


def play_the_counter(system: System, dossier_id: str, event: Any) -> None:
    """Intake's counter handing in what the citizen brought: its event, on intake's topic."""

    async def send() -> None:
        envelope = event.envelope(dossier_id=dossier_id, producer="intake")
        producer = AIOKafkaProducer(**kafka_options(system.env), acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(
                f"{system.env['TOPIC_PREFIX']}.intake.events", envelope.to_bytes(), key=dossier_id.encode()
            )
        finally:
            await producer.stop()

    asyncio.run(send())


def signed(
    body: dict[str, Any] | bytes, key: str = CA_XA_SIGNING_KEY, *, timestamp: float | None = None, nonce: str | None = None
) -> tuple[bytes, dict[str, str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ts = str(int(timestamp if timestamp is not None else time.time()))
    nonce = nonce or uuid.uuid4().hex
    signature = hmac.new(key.encode(), ts.encode() + b"\n" + nonce.encode() + b"\n" + raw, hashlib.sha256).hexdigest()
    return raw, {
        "X-Client-Id": "ca-xa",
        "X-Timestamp": ts,
        "X-Nonce": nonce,
        "X-Signature": signature,
        "Content-Type": "application/json",
    }


def post_signed(system: System, raw: bytes, headers: dict[str, str], who: str = "lgsp-tinh") -> httpx.Response:
    """The LGSP relaying a signed request: its own token, and the agency system's signature."""
    return httpx.post(
        f"{system.url('routing')}/lgsp/step-results", content=raw, headers={**headers, **system.headers(who)}, timeout=10
    )


def admin(system: System, path: str, **params: Any) -> Any:
    """An operator's read of routing's /admin endpoints."""
    answer = httpx.get(f"{system.url('routing')}/admin{path}", params=params, headers=system.headers("operator"), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def finish_civil_status(system: System, dossier_id: str) -> None:
    ubnd = Agency(system, "ubnd-xa")
    assert ubnd.act(dossier_id, "civil-status", "accept").status_code == 200
    assert (
        ubnd.act(dossier_id, "civil-status", "complete", result_documents=[f"doc://khai-sinh/{dossier_id[:8]}"]).status_code
        == 200
    )


# ---------------------------------------------------------------- tests


def test_a_parallel_route_runs_through_the_lgsp_to_a_ready_result(routed: System, loopback: Loopback) -> None:
    dossier_id = received(routed)
    ubnd, bhxh = Agency(routed, "ubnd-xa"), Agency(routed, "bhxh")

    code = route(routed, dossier_id)["dossier_code"]
    inbox = ubnd.get("/agency/steps", dossier_code=code).json()
    assert inbox["total"] == 1
    mine = inbox["items"][0]
    assert mine["dossier_id"] == dossier_id
    paged = ubnd.get("/agency/steps", page_size=1, page=1).json()
    assert len(paged["items"]) == 1 and paged["total"] >= 1
    assert mine["step_id"] == "civil-status" and mine["due_at"] is not None and mine["dossier_code"].startswith("000.00.00.H30-")

    assert ubnd.act(dossier_id, "civil-status", "accept").json()["state"] == "accepted"
    done = ubnd.act(dossier_id, "civil-status", "complete", result_documents=["doc://khai-sinh/1"], note="Đã đăng ký")
    assert done.status_code == 200 and done.json()["state"] == "done"

    # Sequence then parallel branches: residence and health insurance start together.
    wait_states(routed, dossier_id, {"civil-status": "done", "residence": "assigned", "health-insurance": "assigned"})

    # The police's own system got its step through the LGSP, with a bearer token and a bound request id.
    delivered = eventually(lambda: loopback.delivered_for(dossier_id), timeout=20, what="the delivery to the police's system")
    assert len(delivered) == 1 and delivered[0]["step_id"] == "residence" and delivered[0]["dossier_code"] == mine["dossier_code"]

    # ...which reports back through the LGSP, signed.
    for action, extra in (("accept", {}), ("complete", {"result_documents": ["doc://cu-tru/1"]})):
        raw, headers = signed(
            {
                "request_id": f"ca-{action}",
                "dossier_id": dossier_id,
                "step_id": "residence",
                "action": action,
                "officer": "Đại úy Phạm Minh",
                **extra,
            }
        )
        answer = post_signed(routed, raw, headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["request_id"] == f"ca-{action}"

    assert bhxh.act(dossier_id, "health-insurance", "accept").status_code == 200
    assert bhxh.act(dossier_id, "health-insurance", "complete", result_documents=["doc://bhyt/1"]).status_code == 200
    final = wait_states(routed, dossier_id, {"civil-status": "done", "residence": "done", "health-insurance": "done"})
    assert final["national_status"] == 9

    types = eventually(
        lambda: (t := event_types(routed, dossier_id)) and "routing.route_completed" in t and t,
        timeout=20,
        what="route_completed",
    )
    assert types.count("routing.step_assigned") == 3 and types.count("routing.step_completed") == 3
    completed = next(e for e in routing_events(routed, dossier_id) if e["type"] == "routing.route_completed")
    assert sorted(completed["payload"]["result_documents"]) == ["doc://bhyt/1", "doc://cu-tru/1", "doc://khai-sinh/1"]

    # The control sheet (form 5): every handover, who and when.
    actions = [(h["step_id"], h["action"]) for h in final["handovers"]]
    assert actions[:3] == [("civil-status", "assign"), ("civil-status", "accept"), ("civil-status", "complete")]
    assert ("residence", "complete") in actions and any(h["actor"] == "Đại úy Phạm Minh" for h in final["handovers"])

    # The national portal followed: accepted, being handled, result ready.
    eventually(lambda: loopback.statuses_of(code)[-1:] == [9], timeout=20, what="the portal at status 9")
    assert loopback.statuses_of(code) == [2, 4, 9]


def test_an_agency_sees_and_acts_on_its_own_steps_only(routed: System) -> None:
    dossier_id = received(routed)
    before = route(routed, dossier_id)
    events_before = event_types(routed, dossier_id)
    code = before["dossier_code"]
    for who in ("bhxh", "specialist_b"):  # the insurer's system and its officer, on the commune's step
        bhxh = Agency(routed, who)
        assert bhxh.get(f"/agency/steps/{dossier_id}/civil-status").status_code == 404
        for action, body in (("accept", {}), ("complete", {}), ("refuse", {"reason": "x"}), ("supplement", {"items": ["y"]})):
            refused = bhxh.act(dossier_id, "civil-status", action, **body)
            assert refused.status_code == 404 and refused.headers["content-type"] == "application/problem+json"
        assert bhxh.act(dossier_id, "no-such-step", "accept").status_code == 404
        assert bhxh.get("/agency/steps", dossier_code=code).json()["total"] == 0
        assert bhxh.get("/agency/steps", agency="UBND-XA").status_code == 404  # a filter naming another agency
    assert Agency(routed, "ubnd-xa").get("/agency/steps", dossier_code=code).json()["total"] == 1
    assert Agency(routed, "specialist").get("/agency/steps", dossier_code=code, agency="UBND-XA").json()["total"] == 1
    assert route(routed, dossier_id) == before  # nothing changed: steps, officers, control sheet
    assert event_types(routed, dossier_id) == events_before

    base = routed.url("routing")
    assert httpx.get(f"{base}/agency/steps").status_code == 401
    assert httpx.get(f"{base}/agency/steps", headers={"Authorization": "Bearer forged.token.value"}).status_code == 401
    # routing no longer issues tokens of its own: agencies' systems get theirs from the identity provider
    assert httpx.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"}).status_code in (404, 405)


def test_two_officers_completing_the_same_step_at_once_one_wins(routed: System) -> None:
    dossier_id = received(routed)
    assert Agency(routed, "ubnd-xa").act(dossier_id, "civil-status", "accept").status_code == 200
    barrier, results = threading.Barrier(2), []

    def complete(who: str) -> None:
        officer = Agency(routed, who)
        barrier.wait()
        results.append(officer.act(dossier_id, "civil-status", "complete"))

    threads = [threading.Thread(target=complete, args=(who,)) for who in ("ubnd-xa", "specialist")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200, 409]
    conflict = next(r for r in results if r.status_code == 409).json()
    assert conflict["state"] == "done"
    types = eventually(
        lambda: (t := event_types(routed, dossier_id)) and t.count("routing.step_assigned") == 3 and t,
        timeout=20,
        what="the next steps",
    )
    assert types.count("routing.step_completed") == 1


def test_a_step_is_returned_and_a_misrouted_step_transferred(routed: System) -> None:
    dossier_id = received(routed)
    finish_civil_status(routed, dossier_id)
    wait_states(routed, dossier_id, {"civil-status": "done", "residence": "assigned", "health-insurance": "assigned"})
    police = Agency(routed, "ca-xa")

    returned = police.act(dossier_id, "residence", "return", reason="Trích lục sai năm sinh của mẹ")
    assert returned.status_code == 200 and returned.json()["state"] == "waiting"
    assert states(routed, dossier_id) == {"civil-status": "assigned", "residence": "waiting", "health-insurance": "assigned"}
    assert police.act(dossier_id, "residence", "accept").status_code == 409  # not its turn
    finish_civil_status(routed, dossier_id)
    assert states(routed, dossier_id)["residence"] == "assigned"

    assert police.act(dossier_id, "residence", "transfer", to_agency_code="NOPE", reason="x").status_code == 422
    moved = police.act(dossier_id, "residence", "transfer", to_agency_code="CA-TINH", reason="Không thuộc thẩm quyền cấp xã")
    assert moved.status_code == 200 and moved.json()["agency_code"] == "CA-TINH"
    assert police.get(f"/agency/steps/{dossier_id}/residence").status_code == 404
    province = Agency(routed, "ca-tinh")
    assert province.get(f"/agency/steps/{dossier_id}/residence").json()["state"] == "assigned"

    sheet = route(routed, dossier_id)["handovers"]
    back = next(h for h in sheet if h["action"] == "return")
    assert (back["from_party"], back["to_party"], back["note"]) == (
        "Công an xã (cư trú)",
        "UBND xã (hộ tịch)",
        "Trích lục sai năm sinh của mẹ",
    )
    transfer = next(h for h in sheet if h["action"] == "transfer")
    assert (transfer["from_party"], transfer["to_party"], transfer["actor"]) == (
        "Công an xã (cư trú)",
        "Công an tỉnh",
        "Công an xã (cư trú)",  # the police's own system, named by its agency
    )
    types = eventually(
        lambda: (t := event_types(routed, dossier_id)) and "routing.step_transferred" in t and t,
        timeout=20,
        what="the transfer event",
    )
    assert "routing.step_returned" in types


def test_supplement_round_trip_fees_and_stop_pause_the_dossier(routed: System, loopback: Loopback) -> None:
    dossier_id = received(routed)
    ubnd = Agency(routed, "ubnd-xa")
    assert ubnd.act(dossier_id, "civil-status", "accept").status_code == 200
    assert ubnd.act(dossier_id, "civil-status", "supplement", items=[]).status_code == 422
    asked = ubnd.act(dossier_id, "civil-status", "supplement", items=["Bản sao giấy chứng nhận kết hôn"], reason="Thiếu giấy tờ")
    assert asked.status_code == 200 and asked.json()["state"] == "supplement"
    assert route(routed, dossier_id)["national_status"] == 5
    assert ubnd.act(dossier_id, "civil-status", "complete").status_code == 409

    requested = eventually(
        lambda: next((e for e in routing_events(routed, dossier_id) if e["type"] == "dossier.supplement_requested"), None),
        timeout=20,
        what="the supplement request",
    )
    assert requested["payload"]["requested_by"] == "UBND-XA" and requested["payload"]["step_id"] == "civil-status"

    play_the_counter(
        routed, dossier_id, SupplementReceived(received_at=datetime.now(UTC), items=["Bản sao giấy chứng nhận kết hôn"])
    )
    wait_states(routed, dossier_id, {"civil-status": "accepted", "residence": "waiting", "health-insurance": "waiting"})
    assert route(routed, dossier_id)["national_status"] == 4

    assert ubnd.act(dossier_id, "civil-status", "fee", amount_vnd=8000, description="Lệ phí cấp bản sao").status_code == 200
    assert route(routed, dossier_id)["national_status"] == 6
    assert ubnd.act(dossier_id, "civil-status", "fee-payment", amount_vnd=8000, receipt_ref="BL-1").json()["state"] == "accepted"
    assert ubnd.act(dossier_id, "civil-status", "stop", reason="Chờ xác minh").json()["state"] == "stopped"
    assert route(routed, dossier_id)["national_status"] == 8
    assert ubnd.act(dossier_id, "civil-status", "resume").json()["state"] == "accepted"
    assert ubnd.act(dossier_id, "civil-status", "complete").status_code == 200

    types = eventually(
        lambda: (t := event_types(routed, dossier_id)) and t.count("routing.step_assigned") == 3 and t,
        timeout=20,
        what="the next steps",
    )
    order = [
        t
        for t in types
        if t
        in {
            "dossier.supplement_requested",
            "routing.fee_requested",
            "routing.fee_paid",
            "routing.handling_stopped",
            "routing.handling_resumed",
        }
    ]
    assert order == [
        "dossier.supplement_requested",
        "routing.fee_requested",
        "routing.fee_paid",
        "routing.handling_stopped",
        "routing.handling_resumed",
    ]
    code = route(routed, dossier_id)["dossier_code"]
    eventually(lambda: loopback.statuses_of(code) == [2, 4, 5, 4, 6, 4, 8, 4], timeout=20, what="every pause on the portal")


def test_an_agency_refusal_stops_every_open_step(routed: System) -> None:
    dossier_id = received(routed)
    finish_civil_status(routed, dossier_id)
    wait_states(routed, dossier_id, {"civil-status": "done", "residence": "assigned", "health-insurance": "assigned"})
    refused = Agency(routed, "ca-xa").act(
        dossier_id, "residence", "refuse", reason="Không đủ điều kiện đăng ký thường trú (Điều 20 Luật Cư trú 2020)"
    )
    assert refused.status_code == 200
    assert states(routed, dossier_id) == {"civil-status": "done", "residence": "refused", "health-insurance": "cancelled"}
    assert route(routed, dossier_id)["national_status"] == 3
    event = eventually(
        lambda: next((e for e in routing_events(routed, dossier_id) if e["type"] == "dossier.refused"), None),
        timeout=20,
        what="the refusal",
    )
    assert event["payload"]["refused_by"] == "CA-XA"


def test_a_withdrawal_at_the_counter_stops_every_open_step(routed: System, loopback: Loopback) -> None:
    dossier_id = received(routed)
    finish_civil_status(routed, dossier_id)
    wait_states(routed, dossier_id, {"civil-status": "done", "residence": "assigned", "health-insurance": "assigned"})
    play_the_counter(routed, dossier_id, DossierWithdrawn(reason="Công dân rút hồ sơ", withdrawn_at=datetime.now(UTC)))
    wait_states(routed, dossier_id, {"civil-status": "done", "residence": "cancelled", "health-insurance": "cancelled"})
    assert route(routed, dossier_id)["national_status"] == 7
    late = Agency(routed, "bhxh").act(dossier_id, "health-insurance", "accept")
    assert late.status_code == 409 and late.json()["state"] == "cancelled"
    code = route(routed, dossier_id)["dossier_code"]
    eventually(lambda: loopback.statuses_of(code)[-1:] == [7], timeout=20, what="the withdrawal on the portal")


def test_an_lgsp_outage_heals_and_undelivered_steps_are_visible_and_resent(routed: System, loopback: Loopback) -> None:
    base = routed.url("routing")
    loopback.set_down("/agency/ca-xa", True)
    try:
        dossier_id = received(routed)
        finish_civil_status(routed, dossier_id)

        def undelivered() -> dict[str, Any] | None:
            rows = admin(routed, "/deliveries", undelivered="true")
            return next((r for r in rows if r["dossier_id"] == dossier_id and r["state"] == "failed"), None)

        failed = eventually(undelivered, timeout=40, what="the delivery to give up")
        assert failed["attempts"] == 6 and "503" in failed["last_error"]
        assert loopback.delivered_for(dossier_id) == []
    finally:
        loopback.set_down("/agency/ca-xa", False)

    resent = httpx.post(f"{base}/admin/deliveries/{failed['id']}/resend", headers=routed.headers("operator"))
    assert resent.status_code == 200
    eventually(lambda: loopback.delivered_for(dossier_id), timeout=20, what="the re-sent delivery")
    assert httpx.post(f"{base}/admin/deliveries/{failed['id']}/resend", headers=routed.headers("operator")).status_code == 409
    assert len(loopback.delivered_for(dossier_id)) == 1

    # A short outage heals by itself: retries with backoff, through the breaker.
    loopback.set_down("/agency/ca-xa", True)
    loopback.set_down("/lgsp/token", True)
    second = received(routed)
    finish_civil_status(routed, second)
    eventually(
        lambda: any(r["dossier_id"] == second and r["attempts"] >= 2 for r in admin(routed, "/deliveries", state="pending")),
        timeout=20,
        what="failed attempts",
    )
    loopback.set_down("/agency/ca-xa", False)
    loopback.set_down("/lgsp/token", False)
    eventually(lambda: loopback.delivered_for(second), timeout=30, what="the delivery after the outage")

    # An answer that does not echo our request id is not a delivery.
    loopback.wrong_request_id = True
    try:
        third = received(routed)
        finish_civil_status(routed, third)
        pending = eventually(
            lambda: next(
                (r for r in admin(routed, "/deliveries", undelivered="true") if r["dossier_id"] == third and r["last_error"]),
                None,
            ),
            timeout=20,
            what="an unbound answer",
        )
        assert "not bound" in pending["last_error"]
    finally:
        loopback.wrong_request_id = False
    eventually(
        lambda: any(r["dossier_id"] == third for r in admin(routed, "/deliveries", state="delivered")),
        timeout=30,
        what="the bound delivery",
    )


def test_a_delivery_pending_when_routing_is_killed_is_sent_after_restart(routed: System, loopback: Loopback) -> None:
    loopback.set_down("/agency/ca-xa", True)
    dossier_id = received(routed)
    finish_civil_status(routed, dossier_id)
    eventually(
        lambda: any(
            r["dossier_id"] == dossier_id and r["attempts"] >= 1 for r in admin(routed, "/deliveries", undelivered="true")
        ),
        timeout=20,
        what="a failed attempt",
    )
    routed.processes["routing"][0].kill()  # SIGKILL: no shutdown code runs
    loopback.set_down("/agency/ca-xa", False)
    routed.start("routing", replica=0)
    eventually(lambda: loopback.delivered_for(dossier_id), timeout=30, what="the delivery after the restart")
    time.sleep(1)
    assert len(loopback.delivered_for(dossier_id)) == 1


def test_bad_signatures_stale_and_replayed_requests_are_refused(routed: System) -> None:
    dossier_id = received(routed)
    finish_civil_status(routed, dossier_id)
    wait_states(routed, dossier_id, {"civil-status": "done", "residence": "assigned", "health-insurance": "assigned"})
    body = {
        "request_id": "r-1",
        "dossier_id": dossier_id,
        "step_id": "residence",
        "action": "accept",
        "officer": "Đại úy Phạm Minh",
    }

    raw, headers = signed(body, key="wrong-key")
    assert post_signed(routed, raw, headers).status_code == 401
    raw, headers = signed(body)
    assert post_signed(routed, raw.replace(b"accept", b"refuse"), headers).status_code == 401  # tampered body
    raw, headers = signed(body, timestamp=time.time() - 3600)
    stale = post_signed(routed, raw, headers)
    assert stale.status_code == 401 and "stale" in stale.json()["detail"]
    raw, headers = signed({**body, "step_id": None})
    invalid = post_signed(routed, raw, headers)
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "step_id"
    assert states(routed, dossier_id)["residence"] == "assigned"  # nothing changed

    raw, headers = signed(body)
    assert post_signed(routed, raw, headers).status_code == 200
    replay = post_signed(routed, raw, headers)
    assert replay.status_code == 409 and replay.headers["content-type"] == "application/problem+json"

    raw, headers = signed({**body, "step_id": "health-insurance"})  # someone else's step
    assert post_signed(routed, raw, headers).status_code == 404

    audit = admin(routed, "/audit", limit=5000)
    refusals = [a["entry"]["detail"]["reason"] for a in audit if a["entry"]["kind"] == "lgsp.inbound_refused"]
    assert (
        "unknown client or bad signature" in refusals
        and any("stale" in r for r in refusals)
        and "this nonce was already used" in refusals
    )


def step_of(system: System, dossier_id: str, step_id: str) -> dict[str, Any]:
    return next(s for s in route(system, dossier_id)["steps"] if s["step_id"] == step_id)


def test_forged_spoofed_replayed_and_misdirected_callbacks_change_nothing_and_are_audited(routed: System) -> None:
    dossier_id = received(routed)
    finish_civil_status(routed, dossier_id)
    wait_states(routed, dossier_id, {"civil-status": "done", "residence": "assigned", "health-insurance": "assigned"})
    before = {step: step_of(routed, dossier_id, step) for step in ("residence", "health-insurance")}
    body = {
        "request_id": "r-2",
        "dossier_id": dossier_id,
        "step_id": "residence",
        "action": "refuse",
        "officer": "Kẻ giả mạo",
        "reason": "x",
    }

    raw, headers = signed(body, timestamp=time.time() + 3600)  # from the future
    assert post_signed(routed, raw, headers).status_code == 401
    raw, headers = signed(body)
    assert (
        post_signed(routed, raw, {**headers, "X-Client-Id": "ubnd-xa"}).status_code == 401
    )  # the police's key under another name
    assert post_signed(routed, raw, {**headers, "X-Client-Id": "nobody"}).status_code == 401
    unsigned_body = post_signed(routed, raw, {"Content-Type": "application/json"})  # the LGSP's token, no signature
    assert unsigned_body.status_code == 401 and unsigned_body.headers["content-type"] == "application/problem+json"
    url = f"{routed.url('routing')}/lgsp/step-results"
    no_token = httpx.post(url, content=raw, headers=headers)  # correctly signed, but not from the LGSP
    assert no_token.status_code == 401 and no_token.headers["content-type"] == "application/problem+json"
    for who in ("ca-xa", "bhxh", "specialist", "operator"):  # tokens of the identity provider, but not the LGSP's
        assert post_signed(routed, raw, headers, who=who).status_code == 403
    not_hex = httpx.post(
        url, content=raw, headers={**headers, **routed.headers("lgsp-tinh"), "X-Signature": ("é" * 64).encode("latin-1")}
    )
    assert not_hex.status_code == 401  # not even ASCII

    accept = {**body, "request_id": "r-3", "action": "accept", "officer": "Đại úy Phạm Minh"}
    raw, headers = signed(accept)
    assert post_signed(routed, raw, headers).status_code == 200
    accepted = step_of(routed, dossier_id, "residence")
    raw_refuse, headers_refuse = signed(body, nonce=headers["X-Nonce"])  # a new body, correctly signed, with a used nonce
    assert post_signed(routed, raw_refuse, headers_refuse).status_code == 409
    raw, headers = signed({**accept, "step_id": "health-insurance", "action": "refuse"})  # the police refusing the insurer's step
    assert post_signed(routed, raw, headers).status_code == 404

    # over REST: another agency's token, a forged token, a token signed with another key
    ubnd = Agency(routed, "ubnd-xa")
    assert ubnd.act(dossier_id, "residence", "refuse", reason="không phải việc của tôi").status_code == 404
    assert ubnd.act(dossier_id, "health-insurance", "complete").status_code == 404
    forged = jwt.encode(
        {"sub": "ca-xa", "agency": "CA-XA", "exp": int(time.time()) + 300},
        "not-the-secret-0123456789abcdef-forged",
        algorithm="HS256",
    )
    unsigned = jwt.encode({"sub": "ca-xa", "agency": "CA-XA"}, None, algorithm="none")
    for token in (forged, unsigned, "garbage"):
        response = httpx.post(
            f"{routed.url('routing')}/agency/steps/{dossier_id}/residence/refuse",
            json={"reason": "y"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert response.status_code == 401 and response.headers["content-type"] == "application/problem+json"

    # nothing changed but the one authentic acceptance
    assert step_of(routed, dossier_id, "residence") == accepted and accepted["state"] != before["residence"]["state"]
    assert step_of(routed, dossier_id, "health-insurance") == before["health-insurance"]
    assert "routing.dossier_refused" not in event_types(routed, dossier_id) and "dossier.refused" not in event_types(
        routed, dossier_id
    )
    audit = admin(routed, "/audit", dossier_id=dossier_id, limit=5000)
    refused = [
        (a["entry"]["actor"], a["entry"]["step_id"], a["entry"]["detail"]["channel"], a["entry"]["detail"]["agencies"])
        for a in audit
        if a["entry"]["kind"] == "step.action_refused"
    ]
    assert sorted(refused) == [
        ("UBND xã (hộ tịch)", "health-insurance", "api", ["UBND-XA"]),  # the commune's system, by its token
        ("UBND xã (hộ tịch)", "residence", "api", ["UBND-XA"]),
        ("Đại úy Phạm Minh", "health-insurance", "lgsp", ["CA-XA"]),  # the police's officer, as its signed report names him
    ]
    everything = admin(routed, "/audit", limit=5000)
    reasons = [a["entry"]["detail"].get("reason", "") for a in everything if a["entry"]["kind"] == "lgsp.inbound_refused"]
    assert sum(1 for r in reasons if "stale" in r) >= 1 and reasons.count("unknown client or bad signature") >= 4


def test_a_signed_result_whose_action_failed_is_applied_when_retried_with_the_same_nonce(routed: System) -> None:
    """The nonce is claimed in the action's own transaction: an action that fails leaves it unused,
    so the agency's system retrying the same delivery once the cause is gone is not refused as a replay."""
    dossier_id = received(routed)  # civil status assigned; residence waits for it
    body = {
        "request_id": "ca-retry-1",
        "dossier_id": dossier_id,
        "step_id": "residence",
        "action": "complete",
        "officer": "Đại úy Phạm Minh",
        "result_documents": ["doc://cu-tru/retry-1"],
    }

    raw, headers = signed(body)
    too_early = post_signed(routed, raw, headers)  # the police's system reports before the commune finished
    assert too_early.status_code == 409, too_early.text
    assert too_early.json()["type"].endswith("/illegal-transition") and too_early.json()["state"] == "waiting"
    assert step_of(routed, dossier_id, "residence")["state"] == "waiting"

    finish_civil_status(routed, dossier_id)  # the cause removed, over REST: residence is now the police's
    assert step_of(routed, dossier_id, "residence")["state"] == "assigned"
    raw, headers = signed(body, nonce=headers["X-Nonce"], timestamp=time.time() + 1)  # the same delivery, re-signed
    retried = post_signed(routed, raw, headers)
    assert retried.status_code == 200, retried.text
    assert retried.json()["request_id"] == "ca-retry-1" and retried.json()["step"]["state"] == "done"
    residence = step_of(routed, dossier_id, "residence")
    assert residence["state"] == "done" and residence["result_documents"] == ["doc://cu-tru/retry-1"]

    replay = post_signed(routed, raw, headers)  # applied now: the nonce is spent
    assert replay.status_code == 409 and replay.json()["type"].endswith("/replayed-request")
    assert step_of(routed, dossier_id, "residence") == residence


def test_the_portal_catches_up_after_an_outage_and_is_reconciled(routed: System, loopback: Loopback) -> None:
    base = routed.url("routing")
    loopback.set_down("/portal", True)
    try:
        dossier_id = received(routed)
        code = route(routed, dossier_id)["dossier_code"]
        eventually(
            lambda: any(p["attempts"] >= 1 for p in admin(routed, "/portal/pushes", dossier_id=dossier_id)),
            timeout=20,
            what="failed pushes",
        )
        assert loopback.statuses_of(code) == []
    finally:
        loopback.set_down("/portal", False)
    eventually(lambda: loopback.statuses_of(code) == [2, 4], timeout=30, what="the pushes after the outage, in order")

    with loopback.lock:  # the portal lost our record
        del loopback.portal[code]
    result = httpx.post(f"{base}/admin/portal/reconcile", headers=routed.headers("operator"), timeout=30)
    assert result.status_code == 200 and result.json()["requeued"] >= 1
    eventually(lambda: loopback.portal.get(code, {}).get("TrangThaiHoSo") == 4, timeout=20, what="the reconciled record")


def test_the_audit_log_is_append_only_and_tampering_shows(routed: System, stack: Any, database_url: str) -> None:
    dossier_id = received(routed)
    finish_civil_status(routed, dossier_id)

    def kinds() -> set[str]:
        return {a["entry"]["kind"] for a in admin(routed, "/audit", dossier_id=dossier_id)}

    eventually(
        lambda: {"officer.accept", "officer.complete", "lgsp.delivered", "portal.pushed"} <= kinds(),
        timeout=20,
        what="the exchanges logged",
    )
    verified = admin(routed, "/audit/verify")
    assert verified["intact"] and verified["records"] >= 5

    database = database_url.rsplit("/", 1)[1]
    with pytest.raises(subprocess.CalledProcessError) as refused:
        stack.postgres.psql("UPDATE routing.audit_log SET entry = '{}' WHERE id = 2", database=database)
    assert "append-only" in refused.value.stderr
    with pytest.raises(subprocess.CalledProcessError):
        stack.postgres.psql("DELETE FROM routing.audit_log WHERE id = 2", database=database)
    stack.postgres.psql(
        "ALTER TABLE routing.audit_log DISABLE TRIGGER audit_log_append_only;"
        " UPDATE routing.audit_log SET entry = jsonb_set(entry, '{actor}', '\"someone else\"') WHERE id = 3;"
        " ALTER TABLE routing.audit_log ENABLE TRIGGER audit_log_append_only;",
        database=database,
    )
    tampered = admin(routed, "/audit/verify")
    assert not tampered["intact"] and tampered["first_broken_id"] == 3


# ---------------------------------------------------------------- who may call what, and who is named


ANONYMOUS = "anonymous"
CALLERS = (
    ANONYMOUS,
    "specialist",  # Lê Thị Mai, UBND-XA
    "specialist_b",  # Đỗ Văn Bảo, BHXH
    "bhxh",  # the insurer's system, by client credentials
    "ubnd-xa",  # the commune's system
    "counter",  # H30, the unit that received the dossiers of these tests
    "counter_b",  # PHU_LOC
    "leader",  # H30
    "operator",
    "nobody",
    "admin",  # the province administrator
    "lgsp-tinh",
)
STEP_CALLERS = {"specialist", "specialist_b", "bhxh", "ubnd-xa", "admin"}  # the roles of /agency/steps
ROUTE_READERS = {"counter", "counter_b", "leader", "specialist", "specialist_b", "admin"}  # of a dossier's route
STEP_ACTIONS = {
    "accept": {},
    "complete": {"result_documents": ["doc://x/1"]},
    "return": {"reason": "r"},
    "supplement": {"items": ["i"]},
    "fee": {"amount_vnd": 1000, "description": "d"},
    "fee-payment": {"amount_vnd": 1000},
    "refuse": {"reason": "r"},
    "stop": {"reason": "r"},
    "resume": {},
    "transfer": {"to_agency_code": "CA-TINH", "reason": "r"},
}


def expected_status(kind: str, who: str) -> int:
    """What `who` gets from an endpoint of this kind, on the insurer's step (BHXH, still waiting:
    no action is legal on it yet) of a dossier received at H30 and routed through UBND-XA, CA-XA and BHXH."""
    if who == ANONYMOUS:
        return 401
    if kind in ("inbox", "step", "action"):
        if who not in STEP_CALLERS:
            return 403
        if kind == "inbox":
            return 200
        in_scope = who in ("specialist_b", "bhxh", "admin")
        return (200 if kind == "step" else 409) if in_scope else 404
    if kind == "route":
        return (404 if who == "counter_b" else 200) if who in ROUTE_READERS else 403
    if kind == "lgsp":
        return 409 if who == "lgsp-tinh" else 403  # signed correctly, for a step not yet open
    if kind == "audit-trail":
        return 200 if who in ("operator", "admin") else 403
    assert kind.startswith("admin:")
    return int(kind.split(":")[1]) if who == "operator" else 403


def test_every_role_on_every_routing_endpoint_with_real_tokens(routed: System) -> None:
    dossier_id = received(routed)
    before = route(routed, dossier_id)
    events_before = event_types(routed, dossier_id)
    step = f"/agency/steps/{dossier_id}/health-insurance"
    report = {
        "request_id": "t-1",
        "dossier_id": dossier_id,
        "step_id": "residence",
        "action": "accept",
        "officer": "Đại úy Phạm Minh",
    }
    endpoints: list[tuple[str, str, str, Any]] = [
        ("inbox", "GET", "/agency/steps", None),
        ("step", "GET", step, None),
        *[("action", "POST", f"{step}/{action}", body) for action, body in STEP_ACTIONS.items()],
        ("route", "GET", f"/dossiers/{dossier_id}/route", None),
        ("lgsp", "POST", "/lgsp/step-results", report),
        ("audit-trail", "GET", f"/audit-trail?dossier_id={dossier_id}", None),
        ("admin:200", "GET", "/admin/deliveries", None),
        ("admin:404", "POST", "/admin/deliveries/987654321/resend", None),
        ("admin:200", "GET", "/admin/portal/pushes", None),
        ("admin:200", "GET", "/admin/audit?limit=1", None),
        ("admin:200", "GET", "/admin/audit/verify", None),
        ("admin:200", "GET", "/admin/dead-letters", None),
    ]
    base = routed.url("routing")
    wrong: list[tuple[str, str, str, int, int]] = []
    for kind, method, path, body in endpoints:
        for who in CALLERS:
            headers = {} if who == ANONYMOUS else routed.headers(who)
            if kind == "lgsp":
                raw, signature = signed(body)
                answer = httpx.post(f"{base}{path}", content=raw, headers={**signature, **headers}, timeout=10)
            else:
                answer = httpx.request(method, f"{base}{path}", json=body, headers=headers, timeout=10)
            if answer.status_code != expected_status(kind, who):
                wrong.append((who, method, path, answer.status_code, expected_status(kind, who)))
            elif answer.status_code >= 400:
                assert answer.headers["content-type"] == "application/problem+json", (who, path)
    assert not wrong, "\n".join(f"{who} {method} {path}: {got}, expected {want}" for who, method, path, got, want in wrong)

    after = route(routed, dossier_id)  # nothing changed by any of it
    assert after["steps"] == before["steps"] and after["handovers"] == before["handovers"]
    assert event_types(routed, dossier_id) == events_before


def audit_trail(system: System, dossier_id: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{system.url('routing')}/audit-trail", params={"dossier_id": dossier_id}, headers=system.headers("admin"), timeout=10
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_the_officer_who_acted_is_named_on_the_step_the_control_sheet_the_events_and_the_audit(routed: System) -> None:
    dossier_id = received(routed)
    mai = Agency(routed, "specialist")  # Lê Thị Mai, an officer of UBND-XA
    accepted = mai.act(dossier_id, "civil-status", "accept", note="Đã nhận")
    assert accepted.status_code == 200 and accepted.json()["officer"] == "Lê Thị Mai"
    assert mai.act(dossier_id, "civil-status", "accept", officer="Someone Else").status_code == 422  # no name of one's choosing

    sheet = route(routed, dossier_id)
    civil = next(s for s in sheet["steps"] if s["step_id"] == "civil-status")
    assert civil["officer"] == "Lê Thị Mai" and civil["officer_subject"]
    first = sheet["handovers"][0]  # handed to the commune by the officer who received the dossier at intake
    assert (first["action"], first["actor"]) == ("assign", routed.identities.officers["all"].name)
    line = next(h for h in sheet["handovers"] if h["action"] == "accept")
    assert (line["actor"], line["to_party"], line["actor_subject"]) == ("Lê Thị Mai", "Lê Thị Mai", civil["officer_subject"])

    event = eventually(
        lambda: next((e for e in routing_events(routed, dossier_id) if e["type"] == "routing.step_accepted"), None),
        timeout=20,
        what="the acceptance on Kafka",
    )
    assert event["payload"]["officer"] == "Lê Thị Mai"
    assert (event["actor"]["kind"], event["actor"]["name"], event["actor"]["subject"]) == (
        "officer",
        "Lê Thị Mai",
        civil["officer_subject"],
    )
    trail = audit_trail(routed, dossier_id)
    row = next(r for r in trail if r["action"] == "routing.step_accepted")
    assert (row["actor_kind"], row["actor_name"], row["actor_subject"], row["event_id"]) == (
        "officer",
        "Lê Thị Mai",
        civil["officer_subject"],
        event["event_id"],
    )
    log = admin(routed, "/audit", dossier_id=dossier_id, limit=5000)
    entry = next(a["entry"] for a in log if a["entry"]["kind"] == "officer.accept")
    assert (entry["actor"], entry["detail"]["subject"], entry["detail"]["agency"]) == (
        "Lê Thị Mai",
        civil["officer_subject"],
        "UBND-XA",
    )

    # The commune's own system completing the step is named by its agency, everywhere alike.
    assert (
        Agency(routed, "ubnd-xa").act(dossier_id, "civil-status", "complete", result_documents=["doc://ks/1"]).status_code == 200
    )
    after = route(routed, dossier_id)
    done = next(s for s in after["steps"] if s["step_id"] == "civil-status")
    assert done["officer"] == "UBND xã (hộ tịch)"
    handed_on = {(h["step_id"], h["actor"]) for h in after["handovers"] if h["action"] == "assign"}
    assert {("residence", "UBND xã (hộ tịch)"), ("health-insurance", "UBND xã (hộ tịch)")} <= handed_on
    completed = eventually(
        lambda: next((e for e in routing_events(routed, dossier_id) if e["type"] == "routing.step_completed"), None),
        timeout=20,
        what="the completion on Kafka",
    )
    assert completed["payload"]["officer"] == "UBND xã (hộ tịch)"
    assert (completed["actor"]["kind"], completed["actor"]["name"], completed["actor"]["unit"]) == (
        "agency-system",
        "UBND xã (hộ tịch)",
        "UBND-XA",
    )


def test_a_control_sheet_is_read_only_in_scope_and_every_read_is_audited(routed: System) -> None:
    dossier_id = received(routed)  # received at H30
    url = f"{routed.url('routing')}/dossiers/{dossier_id}/route"

    hidden = httpx.get(url, headers=routed.headers("counter_b"), timeout=10)  # the counter of Phú Lộc
    assert hidden.status_code == 404 and hidden.headers["content-type"] == "application/problem+json"
    assert httpx.get(url, headers=routed.headers("specialist_b"), timeout=10).status_code == 200  # BHXH is on the route
    shown = httpx.get(url, headers=routed.headers("counter"), timeout=10)
    assert shown.status_code == 200 and shown.json()["receiving_unit"] == "000.00.00.H30"

    reads = [(r["actor_name"], r["actor_kind"]) for r in audit_trail(routed, dossier_id) if r["action"] == "read:route"]
    assert ("Nguyễn Thị Tiếp", "officer") in reads and ("Đỗ Văn Bảo", "officer") in reads
    assert "Phạm Văn Xã" not in [name for name, _ in reads]  # counter_b read nothing
