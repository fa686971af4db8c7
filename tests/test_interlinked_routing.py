"""Interlinked handling over the real stack: intake and routing as real processes on the session's
Kafka and PostgreSQL, with real HTTP servers on loopback playing the LGSP, the police's own
system behind it, and the national portal."""

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

from services.events.schemas import DossierWithdrawn, SupplementReceived
from tests.conftest import BIRTH_GROUP, System, eventually
from tests.loopback import Loopback

SECRETS = {"ubnd-xa": "s-ubnd", "ca-xa": "s-ca", "bhxh": "s-bhxh", "bhxh-tinh": "s-bhxh-tinh"}
CA_XA_SIGNING_KEY = "ca-xa-hmac-key"


@pytest.fixture(scope="module")
def loopback() -> Iterator[Loopback]:
    server = Loopback().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def routed(migrated: dict[str, str], loopback: Loopback, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """Intake and routing, routing configured with four agencies, the police behind the LGSP."""
    folder = tmp_path_factory.mktemp("routing")
    agencies = folder / "agencies.json"
    agencies.write_text(
        json.dumps(
            {
                "agencies": [
                    {
                        "code": "UBND-XA",
                        "name": "UBND xã (hộ tịch)",
                        "client_id": "ubnd-xa",
                        "client_secret_env": "T_SECRET_UBND",
                    },
                    {
                        "code": "CA-XA",
                        "name": "Công an xã (cư trú)",
                        "client_id": "ca-xa",
                        "client_secret_env": "T_SECRET_CA",
                        "inbound_secret_env": "T_HMAC_CA",
                        "lgsp_endpoint": f"{loopback.url}/agency/ca-xa/steps",
                    },
                    {"code": "BHXH", "name": "Bảo hiểm xã hội", "client_id": "bhxh", "client_secret_env": "T_SECRET_BHXH"},
                    {
                        "code": "BHXH-TINH",
                        "name": "Bảo hiểm xã hội tỉnh",
                        "client_id": "bhxh-tinh",
                        "client_secret_env": "T_SECRET_BHXH_TINH",
                    },
                ]
            }
        ),
        encoding="utf-8",
    )
    env = {
        **migrated,
        "ROUTING_AGENCIES_FILE": str(agencies),
        "ROUTING_JWT_SECRET": "jwt-test-secret-0123456789abcdef",
        "T_SECRET_UBND": SECRETS["ubnd-xa"],
        "T_SECRET_CA": SECRETS["ca-xa"],
        "T_SECRET_BHXH": SECRETS["bhxh"],
        "T_SECRET_BHXH_TINH": SECRETS["bhxh-tinh"],
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
    system = System(env, folder / "logs")
    try:
        system.start("intake")
        system.start("routing")
        yield system
    finally:
        system.stop_all()


# ---------------------------------------------------------------- helpers


class Agency:
    """An agency's client of the REST API, with its own short-lived token."""

    def __init__(self, system: System, client_id: str) -> None:
        self.base = system.url("routing")
        response = httpx.post(
            f"{self.base}/oauth/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": SECRETS[client_id]},
        )
        assert response.status_code == 200, response.text
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.base}{path}", headers=self.headers, params=params, timeout=10)

    def act(self, dossier_id: str, step_id: str, action: str, **body: Any) -> httpx.Response:
        return httpx.post(
            f"{self.base}/agency/steps/{dossier_id}/{step_id}/{action}",
            headers=self.headers,
            json={"officer": "Cán bộ A", **body},
            timeout=10,
        )


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
        consumer = AIOKafkaConsumer(bootstrap_servers=system.env["KAFKA_BOOTSTRAP_SERVERS"], enable_auto_commit=False)
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
        producer = AIOKafkaProducer(bootstrap_servers=system.env["KAFKA_BOOTSTRAP_SERVERS"], acks="all")
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


def post_signed(system: System, raw: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{system.url('routing')}/lgsp/step-results", content=raw, headers=headers, timeout=10)


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

    assert ubnd.act(dossier_id, "civil-status", "accept", officer="Nguyễn Văn Tư").json()["state"] == "accepted"
    done = ubnd.act(
        dossier_id, "civil-status", "complete", officer="Nguyễn Văn Tư", result_documents=["doc://khai-sinh/1"], note="Đã đăng ký"
    )
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
    bhxh = Agency(routed, "bhxh")
    assert bhxh.get(f"/agency/steps/{dossier_id}/civil-status").status_code == 404
    refused = bhxh.act(dossier_id, "civil-status", "complete")
    assert refused.status_code == 404 and refused.headers["content-type"] == "application/problem+json"
    assert bhxh.act(dossier_id, "no-such-step", "accept").status_code == 404
    code = route(routed, dossier_id)["dossier_code"]
    assert bhxh.get("/agency/steps", dossier_code=code).json()["total"] == 0
    assert Agency(routed, "ubnd-xa").get("/agency/steps", dossier_code=code).json()["total"] == 1
    assert states(routed, dossier_id)["civil-status"] == "assigned"  # nothing changed

    base = routed.url("routing")
    assert httpx.get(f"{base}/agency/steps").status_code == 401
    assert httpx.get(f"{base}/agency/steps", headers={"Authorization": "Bearer forged.token.value"}).status_code == 401
    wrong = httpx.post(
        f"{base}/oauth/token", data={"grant_type": "client_credentials", "client_id": "bhxh", "client_secret": "guess"}
    )
    assert wrong.status_code == 401


def test_two_officers_completing_the_same_step_at_once_one_wins(routed: System) -> None:
    dossier_id = received(routed)
    ubnd = Agency(routed, "ubnd-xa")
    assert ubnd.act(dossier_id, "civil-status", "accept").status_code == 200
    barrier, results = threading.Barrier(2), []

    def complete(officer: str) -> None:
        barrier.wait()
        results.append(ubnd.act(dossier_id, "civil-status", "complete", officer=officer))

    threads = [threading.Thread(target=complete, args=(name,)) for name in ("Officer 1", "Officer 2")]
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
    police, bhxh = Agency(routed, "ca-xa"), Agency(routed, "bhxh")

    returned = police.act(dossier_id, "residence", "return", reason="Trích lục sai năm sinh của mẹ")
    assert returned.status_code == 200 and returned.json()["state"] == "waiting"
    assert states(routed, dossier_id) == {"civil-status": "assigned", "residence": "waiting", "health-insurance": "assigned"}
    assert police.act(dossier_id, "residence", "accept").status_code == 409  # not its turn
    finish_civil_status(routed, dossier_id)
    assert states(routed, dossier_id)["residence"] == "assigned"

    assert bhxh.act(dossier_id, "health-insurance", "transfer", to_agency_code="NOPE", reason="x").status_code == 422
    moved = bhxh.act(
        dossier_id, "health-insurance", "transfer", to_agency_code="BHXH-TINH", reason="Không thuộc thẩm quyền cấp xã"
    )
    assert moved.status_code == 200 and moved.json()["agency_code"] == "BHXH-TINH"
    assert bhxh.get(f"/agency/steps/{dossier_id}/health-insurance").status_code == 404
    province = Agency(routed, "bhxh-tinh")
    assert province.get(f"/agency/steps/{dossier_id}/health-insurance").json()["state"] == "assigned"

    sheet = route(routed, dossier_id)["handovers"]
    back = next(h for h in sheet if h["action"] == "return")
    assert (back["from_party"], back["to_party"], back["note"]) == (
        "Công an xã (cư trú)",
        "UBND xã (hộ tịch)",
        "Trích lục sai năm sinh của mẹ",
    )
    transfer = next(h for h in sheet if h["action"] == "transfer")
    assert (transfer["from_party"], transfer["to_party"]) == ("Bảo hiểm xã hội", "Bảo hiểm xã hội tỉnh")
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
            rows = httpx.get(f"{base}/admin/deliveries", params={"undelivered": "true"}).json()
            return next((r for r in rows if r["dossier_id"] == dossier_id and r["state"] == "failed"), None)

        failed = eventually(undelivered, timeout=40, what="the delivery to give up")
        assert failed["attempts"] == 6 and "503" in failed["last_error"]
        assert loopback.delivered_for(dossier_id) == []
    finally:
        loopback.set_down("/agency/ca-xa", False)

    resent = httpx.post(f"{base}/admin/deliveries/{failed['id']}/resend")
    assert resent.status_code == 200
    eventually(lambda: loopback.delivered_for(dossier_id), timeout=20, what="the re-sent delivery")
    assert httpx.post(f"{base}/admin/deliveries/{failed['id']}/resend").status_code == 409
    assert len(loopback.delivered_for(dossier_id)) == 1

    # A short outage heals by itself: retries with backoff, through the breaker.
    loopback.set_down("/agency/ca-xa", True)
    loopback.set_down("/lgsp/token", True)
    second = received(routed)
    finish_civil_status(routed, second)
    eventually(
        lambda: any(
            r["dossier_id"] == second and r["attempts"] >= 2
            for r in httpx.get(f"{base}/admin/deliveries", params={"state": "pending"}).json()
        ),
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
                (
                    r
                    for r in httpx.get(f"{base}/admin/deliveries", params={"undelivered": "true"}).json()
                    if r["dossier_id"] == third and r["last_error"]
                ),
                None,
            ),
            timeout=20,
            what="an unbound answer",
        )
        assert "not bound" in pending["last_error"]
    finally:
        loopback.wrong_request_id = False
    eventually(
        lambda: any(
            r["dossier_id"] == third for r in httpx.get(f"{base}/admin/deliveries", params={"state": "delivered"}).json()
        ),
        timeout=30,
        what="the bound delivery",
    )


def test_a_delivery_pending_when_routing_is_killed_is_sent_after_restart(routed: System, loopback: Loopback) -> None:
    base = routed.url("routing")
    loopback.set_down("/agency/ca-xa", True)
    dossier_id = received(routed)
    finish_civil_status(routed, dossier_id)
    eventually(
        lambda: any(
            r["dossier_id"] == dossier_id and r["attempts"] >= 1
            for r in httpx.get(f"{base}/admin/deliveries", params={"undelivered": "true"}).json()
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

    audit = httpx.get(f"{routed.url('routing')}/admin/audit", params={"limit": 5000}).json()
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
    missing = post_signed(routed, raw, {"Content-Type": "application/json"})  # no credentials at all
    assert missing.status_code == 401 and missing.headers["content-type"] == "application/problem+json"
    not_hex = httpx.post(
        f"{routed.url('routing')}/lgsp/step-results",
        content=raw,
        headers={**headers, "X-Signature": ("é" * 64).encode("latin-1")},
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
            json={"officer": "x", "reason": "y"},
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
    audit = httpx.get(f"{routed.url('routing')}/admin/audit", params={"dossier_id": dossier_id, "limit": 5000}).json()
    refused = [(a["entry"]["actor"], a["entry"]["step_id"]) for a in audit if a["entry"]["kind"] == "step.action_refused"]
    assert (
        ("CA-XA", "health-insurance") in refused
        and ("UBND-XA", "residence") in refused
        and ("UBND-XA", "health-insurance") in refused
    )
    everything = httpx.get(f"{routed.url('routing')}/admin/audit", params={"limit": 5000}).json()
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
            lambda: any(
                p["attempts"] >= 1 for p in httpx.get(f"{base}/admin/portal/pushes", params={"dossier_id": dossier_id}).json()
            ),
            timeout=20,
            what="failed pushes",
        )
        assert loopback.statuses_of(code) == []
    finally:
        loopback.set_down("/portal", False)
    eventually(lambda: loopback.statuses_of(code) == [2, 4], timeout=30, what="the pushes after the outage, in order")

    with loopback.lock:  # the portal lost our record
        del loopback.portal[code]
    result = httpx.post(f"{base}/admin/portal/reconcile", timeout=30)
    assert result.status_code == 200 and result.json()["requeued"] >= 1
    eventually(lambda: loopback.portal.get(code, {}).get("TrangThaiHoSo") == 4, timeout=20, what="the reconciled record")


def test_the_audit_log_is_append_only_and_tampering_shows(routed: System, stack: Any, database_url: str) -> None:
    base = routed.url("routing")
    dossier_id = received(routed)
    finish_civil_status(routed, dossier_id)

    def kinds() -> set[str]:
        return {a["entry"]["kind"] for a in httpx.get(f"{base}/admin/audit", params={"dossier_id": dossier_id}).json()}

    eventually(
        lambda: {"officer.accept", "officer.complete", "lgsp.delivered", "portal.pushed"} <= kinds(),
        timeout=20,
        what="the exchanges logged",
    )
    verified = httpx.get(f"{base}/admin/audit/verify").json()
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
    tampered = httpx.get(f"{base}/admin/audit/verify").json()
    assert not tampered["intact"] and tampered["first_broken_id"] == 3
