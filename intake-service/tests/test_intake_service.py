"""Intake over the real stack: two real intake processes (replicas) on the session's PostgreSQL,
Kafka and Keycloak. Other services' events are published for real onto their topics, as routing,
deadline and notify would. Requests carry real access tokens: the `client` fixture acts as the
test officer holding every staff role; the tests about access sign in as each role."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from conftest import Identities, free_port, kafka_options
from infra.processes import ServiceProcess
from infra.stack import Stack
from services.calendar import VN_TZ
from services.events import Envelope, Event
from services.events import schemas as ev
from services.events.topics import stage_topic
from services.kafka import create_producer
from services.personal_data.rings import CONTACT_PURPOSE, contact_ring
from services.settings import ServiceSettings

T = TypeVar("T")

BODY: dict[str, Any] = {
    "procedure_code": "1.001193",
    "channel": 1,
    "documents": [{"code": "birth-certificate"}, {"code": "interlinked-form"}],
    "applicant": {"name": "Trần Thị Mai", "citizen_id": "079190005678", "phone": "0987654321", "notify_channels": ["sms"]},
}
LAND: dict[str, Any] = {
    "procedure_code": "1.004193",
    "channel": 1,
    "documents": [{"code": "change-form"}, {"code": "transfer-contract"}, {"code": "certificate"}, {"code": "tax-declaration"}],
    "applicant": {"name": "Lê Văn Hùng", "citizen_id": "079080001111", "email": "hung@example.vn", "notify_channels": ["email"]},
}


LGSP_KEY = "lgsp-tinh-hmac-key-0123456789"


def body_for(name: str, **overrides: Any) -> dict[str, Any]:
    return {**BODY, **overrides, "applicant": {**BODY["applicant"], "name": name}}


class Intake:
    """Two intake replicas on their own topic prefix, so the events published here reach only them."""

    def __init__(self, env: dict[str, str], replicas: list[ServiceProcess]) -> None:
        self.env = env
        self.replicas = replicas
        self.prefix = env["TOPIC_PREFIX"]

    def url(self, replica: int = 0) -> str:
        return self.replicas[replica].url

    async def submit(self, client: httpx.AsyncClient, body: dict[str, Any], replica: int = 0) -> dict[str, Any]:
        response = await client.post(f"{self.url(replica)}/dossiers", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def get(self, client: httpx.AsyncClient, dossier_id: str) -> dict[str, Any]:
        response = await client.get(f"{self.url()}/dossiers/{dossier_id}")
        assert response.status_code == 200, response.text
        return response.json()

    async def publish(self, source: str, dossier_id: str, *events: Event) -> None:
        """Publish as `source` would: its stage topic, keyed by dossier id, one envelope per event."""
        producer = create_producer(
            ServiceSettings(service_name=f"test-{source}", **{k: v for k, v in self.env.items() if k.startswith("KAFKA_")})
        )
        await producer.start()
        try:
            for event in events:
                envelope = event.envelope(dossier_id=dossier_id, producer=source)
                await producer.send_and_wait(stage_topic(self.prefix, source), value=envelope.to_bytes(), key=dossier_id.encode())
        finally:
            await producer.stop()

    async def produced(self, dossier_id: str, count: int, timeout: float = 30, stream: str = "intake") -> list[Envelope]:
        """Intake's own events about a dossier, read from its topic (or its private `contacts` stream)."""
        consumer = AIOKafkaConsumer(
            stage_topic(self.prefix, stream),
            **kafka_options(self.env),
            auto_offset_reset="earliest",
            group_id=None,
        )
        await consumer.start()
        found: list[Envelope] = []
        try:
            deadline = asyncio.get_running_loop().time() + timeout
            while len(found) < count and asyncio.get_running_loop().time() < deadline:
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    found += [e for r in records if (e := Envelope.from_bytes(r.value)).dossier_id == dossier_id]
        finally:
            await consumer.stop()
        return sorted(found, key=lambda e: e.occurred_at)


@pytest.fixture(scope="module")
def intake(migrated: dict[str, str], stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Intake]:
    env = {
        **migrated,
        "TOPIC_PREFIX": migrated["TOPIC_PREFIX"] + "-intake",
        "INTAKE_LOOKUP_RATE_LIMIT": "5",
        "INTAKE_LOOKUP_RATE_WINDOW_S": "600",
        "INTAKE_TRUSTED_PROXIES": "127.0.0.1",
        "INTAKE_LGSP_SECRET_LGSP_TINH": LGSP_KEY,  # the shipped lgsp_clients.json; its other client has no key set
    }
    stack.kafka.provision(env["TOPIC_PREFIX"])
    logs = tmp_path_factory.mktemp("intake-logs")
    replicas = [ServiceProcess("intake", free_port(), env, logs / f"intake-{i}.log", replica=i).start() for i in range(2)]
    try:
        for replica in replicas:
            replica.wait_ready()
        yield Intake(env, replicas)
    finally:
        for replica in replicas:
            replica.stop()


@pytest.fixture
async def client(identities: Identities) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=20, auth=identities.auth("all")) as client:
        yield client


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 45) -> T:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: T | None = None
    while loop.time() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}; last seen: {last!r}")


async def status_becomes(intake: Intake, client: httpx.AsyncClient, dossier_id: str, status: int) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        d = await intake.get(client, dossier_id)
        return d if d["status"] == status else None

    return await eventually(probe, f"status {status}")


def now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- receiving


async def test_concurrent_receipts_on_two_replicas_get_distinct_consecutive_codes(
    intake: Intake, client: httpx.AsyncClient
) -> None:
    unit = "000.01.30.H30"  # only this test receives at this unit
    bodies = [body_for(f"Người nộp {i}", receiving_unit=unit) for i in range(40)]
    results = await asyncio.gather(*(intake.submit(client, b, replica=i % 2) for i, b in enumerate(bodies)))
    codes = [r["code"] for r in results]
    assert len(set(codes)) == 40
    pattern = re.compile(re.escape(unit) + r"-(\d{6})-(\d{4})$")
    matches = [pattern.match(c) for c in codes]
    assert all(matches)
    today = now().astimezone(VN_TZ).strftime("%y%m%d")
    assert {m.group(1) for m in matches if m} == {today}
    sequences = sorted(int(m.group(2)) for m in matches if m)
    assert sequences == list(range(sequences[0], sequences[0] + 40))  # no gap, no repeat


async def test_resubmitting_with_the_same_idempotency_key_returns_the_first_dossier(
    intake: Intake, client: httpx.AsyncClient
) -> None:
    key = f"counter-7-{uuid.uuid4()}"
    body = body_for("Phạm Minh Tú")
    answers = await asyncio.gather(
        *(client.post(f"{intake.url(i % 2)}/dossiers", json=body, headers={"Idempotency-Key": key}) for i in range(6))
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1 and len({a.json()["code"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 5
    later = await client.post(f"{intake.url(1)}/dossiers", json=body, headers={"Idempotency-Key": key})
    assert later.json() == answers[0].json()

    search = (await client.get(f"{intake.url()}/dossiers", params={"q": "Phạm Minh Tú"})).json()
    assert search["counts"]["total"] == 1  # one dossier, whatever the number of submissions
    assert len(await intake.produced(answers[0].json()["id"], 2, timeout=5)) == 1  # and one dossier.received

    other = await client.post(f"{intake.url()}/dossiers", json=body_for("Someone Else"), headers={"Idempotency-Key": key})
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_more_concurrent_keyed_receipts_than_database_connections_are_all_received(
    intake: Intake, client: httpx.AsyncClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A receipt with an Idempotency-Key takes one connection from the pool: ten at once on a pool
    of two queue for it and are all received, none answered 503 for want of a second one."""
    replica = ServiceProcess(
        "intake", free_port(), {**intake.env, "DB_POOL_SIZE": "2"}, tmp_path_factory.mktemp("pool") / "intake.log", replica=9
    ).start()
    try:
        replica.wait_ready()
        tag = uuid.uuid4().hex[:8]
        answers = await asyncio.gather(
            *(
                client.post(
                    f"{replica.url}/dossiers", json=body_for(f"Pool {tag} {i}"), headers={"Idempotency-Key": f"pool-{tag}-{i}"}
                )
                for i in range(10)
            )
        )
    finally:
        replica.stop()
    assert [a.status_code for a in answers] == [201] * 10, [a.text for a in answers if a.status_code != 201][:1]
    assert len({a.json()["code"] for a in answers}) == 10


async def test_invalid_dossiers_are_refused_field_by_field_and_change_nothing(intake: Intake, client: httpx.AsyncClient) -> None:
    before = (await client.get(f"{intake.url()}/dossiers", params={"limit": 1})).json()["counts"]["total"]
    cases = [
        (
            {
                **BODY,
                "documents": [{"code": "interlinked-form"}],
                "applicant": {"name": "A", "phone": "0912345678", "notify_channels": ["sms", "email"]},
            },
            {"documents", "applicant.citizen_id", "applicant.email"},
        ),
        (
            {**BODY, "applicant": {**BODY["applicant"], "email": "not-an-address", "citizen_id": "12345"}},
            {"applicant.email", "applicant.citizen_id"},
        ),
        ({**BODY, "procedure_code": "1.003583"}, {"procedure_code"}),  # withdrawn from the catalogue
        ({**BODY, "procedure_code": "1.001612", "documents": [{"code": "registration-form"}]}, {"applicant.tax_code"}),
        (
            {**BODY, "procedure_code": "2.000815", "channel": 2, "documents": [{"code": "original"}, {"code": "copy"}]},
            {"channel"},
        ),
        ({**BODY, "receiving_unit": "999.99.99.X99"}, {"receiving_unit"}),
    ]
    for body, fields in cases:
        response = await client.post(f"{intake.url()}/dossiers", json=body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert {e["field"] for e in response.json()["errors"]} == fields, response.json()
    after = (await client.get(f"{intake.url()}/dossiers", params={"limit": 1})).json()["counts"]["total"]
    assert after == before

    business = {
        **BODY,
        "procedure_code": "1.001612",
        "documents": [{"code": "registration-form"}],
        "applicant": {
            "kind": "business",
            "name": "Hộ kinh doanh Hoa Mai",
            "tax_code": "0101234567",
            "phone": "0912000111",
            "notify_channels": ["sms"],
        },
    }
    assert (await client.post(f"{intake.url()}/dossiers", json=business)).status_code == 201


async def test_receipt_is_form_1_with_appointment_secret_and_qr_code(intake: Intake, client: httpx.AsyncClient) -> None:
    dossier = await intake.submit(client, LAND)
    receipt = (await client.get(f"{intake.url(1)}/dossiers/{dossier['id']}/receipt")).json()
    assert receipt["form"] == "01" and receipt["dossier_code"] == dossier["code"]
    assert receipt["lookup_secret"] == dossier["lookup_secret"]
    assert [d["name"] for d in receipt["documents"]][0].startswith("Đơn đăng ký biến động")
    assert datetime.fromisoformat(receipt["appointment_at"]) == datetime.fromisoformat(dossier["appointment_at"])
    assert datetime.fromisoformat(dossier["appointment_at"]) - datetime.fromisoformat(dossier["received_at"]) >= timedelta(
        days=10
    )  # 10 working days
    html = await client.get(f"{intake.url()}/dossiers/{dossier['id']}/receipt.html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in html.text and dossier["code"] in html.text and "<svg" in html.text
    assert receipt["appointment_at_local"] in html.text

    received = (await intake.produced(dossier["id"], 1))[0]
    payload = ev.DossierReceived.model_validate(received.payload)
    assert payload.field_code == "DD" and payload.resume_rule == "keep_elapsed" and payload.fully_online is False
    assert [s.step_id for s in payload.route] == ["land-check", "tax-notice", "certificate"]
    assert "079080001111" not in json.dumps(received.payload)  # no citizen id in events


async def test_the_applicants_language_goes_with_the_receipt_to_the_notices(intake: Intake, client: httpx.AsyncClient) -> None:
    english = await intake.submit(client, {**BODY, "applicant": {**BODY["applicant"], "language": "en"}})
    vietnamese = await intake.submit(client, BODY)
    contacts = contact_ring("intake")
    for dossier, language in ((english, "en"), (vietnamese, "vi")):
        (given,) = [e for e in await intake.produced(dossier["id"], 1, stream="contacts") if e.type == "dossier.contact_given"]
        contact = ev.SealedContact.model_validate_json(contacts.open(given.payload["contact"], purpose=CONTACT_PURPOSE) or "")
        assert contact.language == language
    french = await client.post(f"{intake.url()}/dossiers", json={**BODY, "applicant": {**BODY["applicant"], "language": "fr"}})
    assert french.status_code == 422 and [e["field"] for e in french.json()["errors"]] == ["applicant.language"]


async def test_the_catalogue_is_served_and_each_dossier_keeps_its_version(intake: Intake, client: httpx.AsyncClient) -> None:
    catalogue = (await client.get(f"{intake.url()}/catalogue")).json()
    assert len(catalogue["procedures"]) >= 10 and "1.003583" not in {p["code"] for p in catalogue["procedures"]}
    land = (await client.get(f"{intake.url()}/catalogue/procedures/1.004193")).json()
    assert [s["awaits_payment"] for s in land["steps"]] == [False, True, False]
    assert (await client.get(f"{intake.url()}/catalogue/procedures/9.999")).status_code == 404
    dossier = await intake.submit(client, BODY)
    assert dossier["catalogue_version"] == catalogue["version"]


# ---------------------------------------------------------------- lifecycle


async def test_counter_lifecycle_supplement_refusal_and_illegal_transitions(intake: Intake, client: httpx.AsyncClient) -> None:
    dossier = await intake.submit(client, BODY)
    base = f"{intake.url()}/dossiers/{dossier['id']}"

    rate = await client.post(
        f"{intake.url()}/lookup/rating",
        json={"code": dossier["code"], "secret": dossier["lookup_secret"], "score": 5},
        headers={"X-Forwarded-For": "203.0.113.30"},
        auth=None,
    )
    assert (
        rate.status_code == 409
        and rate.json()["current_status"] == 2
        and rate.headers["content-type"] == "application/problem+json"
    )

    form2 = await client.post(
        f"{base}/supplement-requests",
        json={"items": ["Giấy chứng sinh (bản chính)", "Chữ ký của người đi khai"], "reason": "Thiếu giấy tờ"},
    )
    assert form2.status_code == 201 and form2.json()["form"] == "02" and form2.json()["status"] == 5
    again = await client.post(f"{intake.url(1)}/dossiers/{dossier['id']}/supplement-requests", json={"items": ["x"]})
    assert again.status_code == 409 and again.json()["current_status"] == 5

    resumed = await client.post(
        f"{base}/supplements", json={"items": ["Giấy chứng sinh (bản chính)", "Chữ ký của người đi khai"]}
    )
    assert resumed.status_code == 200 and resumed.json()["status"] == 2
    supplement = resumed.json()["supplements"][0]
    assert supplement["requested_by"] == "counter" and supplement["received_at"] is not None
    assert (await client.post(f"{base}/supplements", json={"items": ["x"]})).status_code == 409

    form3 = await client.post(f"{base}/refusal", json={"reason": "Không thuộc thẩm quyền giải quyết"})
    assert form3.status_code == 200 and form3.json()["form"] == "03" and form3.json()["status"] == 3
    withdraw = await client.post(f"{base}/withdrawal", json={})
    assert withdraw.status_code == 409 and withdraw.json()["current_status"] == 3
    assert (await client.post(f"{base}/refusal", json={"reason": ""})).status_code == 422
    missing = await client.post(f"{intake.url()}/dossiers/{uuid.uuid4()}/withdrawal", json={})
    assert missing.status_code == 404

    events = await intake.produced(dossier["id"], 4)
    assert [e.type for e in events] == [
        "dossier.received",
        "dossier.supplement_requested",
        "dossier.supplement_received",
        "dossier.refused",
    ]
    assert events[1].payload["requested_by"] == "counter" and len(events[1].payload["items"]) == 2
    assert events[3].payload["refused_by"] == "counter"


async def test_withdrawal_by_the_citizen(intake: Intake, client: httpx.AsyncClient) -> None:
    dossier = await intake.submit(client, BODY)
    base = f"{intake.url()}/dossiers/{dossier['id']}"
    assert (await client.post(f"{base}/result-return", json={"method": "counter"})).json()["current_status"] == 2
    withdrawn = await client.post(f"{base}/withdrawal", json={"reason": "Đã nộp nhầm thủ tục"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == 7
    events = await intake.produced(dossier["id"], 2)
    assert events[-1].type == "dossier.withdrawn" and events[-1].payload["reason"] == "Đã nộp nhầm thủ tục"


async def test_the_whole_life_from_other_services_events_to_result_and_rating(intake: Intake, client: httpx.AsyncClient) -> None:
    """Land transfer: routed, tax notice (status 6), paid, agency asks for a supplement (5), the
    citizen brings it, stopped (8) and resumed, apology with a new date, result ready (9),
    returned by post (10), rated."""
    dossier = await intake.submit(client, LAND)
    did = dossier["id"]
    base = f"{intake.url()}/dossiers/{did}"
    appointment = datetime.fromisoformat(dossier["appointment_at"])

    await intake.publish(
        "routing",
        did,
        ev.StepAssigned(
            step_id="land-check", agency_code="VPDKDD", agency_name="Chi nhánh VPĐKĐĐ", budget_hours=24, assigned_at=now()
        ),
    )
    await intake.publish(
        "deadline", did, ev.DeadlineTracked(scope="dossier", started_at=now(), due_at=appointment, budget_hours=80)
    )
    await intake.publish(
        "notify",
        did,
        ev.NoticeSent(notice_id="n1", trigger="dossier.received", channel="email", recipient="h***@example.vn", sent_at=now()),
    )
    handled = await status_becomes(intake, client, did, 4)
    assert handled["current_agency"] == "Chi nhánh VPĐKĐĐ"

    await intake.publish(
        "routing",
        did,
        ev.StepCompleted(step_id="land-check", agency_code="VPDKDD", officer="cb01", completed_at=now()),
        ev.StepAssigned(
            step_id="tax-notice", agency_code="THUE-CS", agency_name="Thuế cơ sở", budget_hours=24, assigned_at=now()
        ),
        ev.FeeRequested(
            step_id="tax-notice",
            agency_code="THUE-CS",
            amount_vnd=12_500_000,
            description="Thuế TNCN và lệ phí trước bạ",
            requested_at=now(),
        ),
    )
    await status_becomes(intake, client, did, 6)
    await intake.publish("deadline", did, ev.ClockPaused(status=6, paused_at=now(), appointment_at=appointment))
    await intake.publish(
        "routing", did, ev.FeePaid(step_id="tax-notice", agency_code="THUE-CS", amount_vnd=12_500_000, paid_at=now())
    )
    await status_becomes(intake, client, did, 4)
    later = appointment + timedelta(days=1)
    await intake.publish(
        "deadline",
        did,
        ev.ClockResumed(resumed_at=now(), rule="keep_elapsed", old_appointment_at=appointment, new_appointment_at=later),
    )

    await intake.publish(
        "routing",
        did,
        ev.SupplementRequested(
            requested_by="VPDKDD",
            step_id="certificate",
            items=["Bản vẽ sơ đồ thửa đất"],
            reason="Thiếu sơ đồ",
            requested_at=now(),
        ),
    )
    paused = await status_becomes(intake, client, did, 5)
    assert paused["supplements"][0]["requested_by"] == "VPDKDD"
    assert datetime.fromisoformat(paused["appointment_at"]) == later  # clock_resumed moved the appointment
    resumed = await client.post(f"{base}/supplements", json={"items": ["Bản vẽ sơ đồ thửa đất"]})
    assert resumed.status_code == 200 and resumed.json()["status"] == 4  # back to being handled
    after_supplement = later + timedelta(hours=3)
    await intake.publish(
        "deadline",
        did,
        ev.ClockResumed(resumed_at=now(), rule="keep_elapsed", old_appointment_at=later, new_appointment_at=after_supplement),
    )
    recorded = await eventually(
        lambda: _when(intake.get(client, did), lambda d: d["supplements"][0]["appointment_after"] is not None), "NgayHenTraMoi"
    )
    supplement = recorded["supplements"][0]
    assert datetime.fromisoformat(supplement["appointment_before"]) == later
    assert datetime.fromisoformat(supplement["appointment_after"]) == after_supplement

    await intake.publish(
        "routing",
        did,
        ev.HandlingStopped(step_id="certificate", agency_code="VPDKDD", reason="Chờ kết quả xác minh", stopped_at=now()),
    )
    await status_becomes(intake, client, did, 8)
    await intake.publish("routing", did, ev.HandlingResumed(step_id="certificate", agency_code="VPDKDD", resumed_at=now()))
    await status_becomes(intake, client, did, 4)

    newest = later + timedelta(days=2)
    await intake.publish(
        "deadline",
        did,
        ev.DeadlineOverdue(scope="dossier", due_at=after_supplement, detected_at=now()),
        ev.ApologyIssued(
            responsible_agency_code="VPDKDD",
            responsible_agency_name="Chi nhánh VPĐKĐĐ",
            reason="Chờ xác minh",
            old_appointment_at=after_supplement,
            new_appointment_at=newest,
            issued_at=now(),
        ),
    )
    apologised = await eventually(
        lambda: _when(intake.get(client, did), lambda d: datetime.fromisoformat(d["appointment_at"]) == newest),
        "the apology's new date",
    )
    assert any(e["kind"] == "apology" for e in apologised["timeline"])
    assert apologised["overdue"] is True  # a new date does not undo the missed legal due time

    early = await client.post(f"{base}/result-return", json={"method": "post"})
    assert early.status_code == 409 and early.json()["current_status"] == 4
    await intake.publish("routing", did, ev.RouteCompleted(completed_at=now(), result_documents=["GCN-123"]))
    await status_becomes(intake, client, did, 9)
    returned = await client.post(f"{base}/result-return", json={"method": "post"})
    assert returned.status_code == 200 and returned.json()["status"] == 10 and returned.json()["return_method"] == "post"
    citizen = {"X-Forwarded-For": "203.0.113.31"}
    rating = {"code": dossier["code"], "secret": dossier["lookup_secret"], "score": 4, "comment": "Nhanh"}
    rated = await client.post(f"{intake.url(1)}/lookup/rating", json=rating, headers=citizen, auth=None)
    assert rated.status_code == 201 and rated.json()["score"] == 4
    assert (await intake.get(client, did))["rating"] == 4
    twice = await client.post(f"{intake.url()}/lookup/rating", json={**rating, "score": 1}, headers=citizen, auth=None)
    assert twice.status_code == 409 and twice.json()["current_status"] == 10

    final = await intake.get(client, did)
    kinds = [e["kind"] for e in final["timeline"]]
    for kind in (
        "received",
        "step_assigned",
        "deadline",
        "notice",
        "step_completed",
        "fee_requested",
        "fee_paid",
        "clock_paused",
        "clock_resumed",
        "supplement_requested",
        "supplement_received",
        "handling_stopped",
        "handling_resumed",
        "overdue",
        "apology",
        "route_completed",
        "result_returned",
        "rated",
    ):
        assert kind in kinds, kind
    events = await intake.produced(did, 4)
    assert [e.type for e in events] == [
        "dossier.received",
        "dossier.supplement_received",
        "dossier.result_returned",
        "dossier.rated",
    ]
    assert events[2].payload["method"] == "post" and events[3].payload["score"] == 4


async def _when(value: Awaitable[T], condition: Callable[[T], bool]) -> T | None:
    result = await value
    return result if condition(result) else None


async def test_an_agency_refusal_closes_the_dossier_and_later_events_do_not_reopen_it(
    intake: Intake, client: httpx.AsyncClient
) -> None:
    dossier = await intake.submit(client, BODY)
    did = dossier["id"]
    await intake.publish(
        "routing",
        did,
        ev.StepAssigned(
            step_id="civil-status", agency_code="UBND-XA", agency_name="UBND xã (hộ tịch)", budget_hours=8, assigned_at=now()
        ),
        ev.DossierRefused(
            refused_by="UBND-XA",
            step_id="civil-status",
            reason="Giấy chứng sinh không hợp lệ (Luật Hộ tịch, Điều 16)",
            refused_at=now(),
        ),
        ev.RouteCompleted(completed_at=now()),
    )
    await intake.publish(
        "notify",
        did,
        ev.NoticeSent(notice_id="n9", trigger="dossier.refused", channel="sms", recipient="098****321", sent_at=now()),
    )

    async def all_seen() -> dict[str, Any] | None:
        d = await intake.get(client, did)
        return d if {"refused", "route_completed", "notice"} <= {e["kind"] for e in d["timeline"]} else None

    final = await eventually(all_seen, "the refusal, the late route event and the notice")
    assert final["status"] == 3 and final["closing_reason"].startswith("Giấy chứng sinh")


# ---------------------------------------------------------------- looking up


async def test_citizen_look_up_needs_the_secret_masks_the_name_and_is_rate_limited(
    intake: Intake, client: httpx.AsyncClient
) -> None:
    dossier = await intake.submit(client, BODY)
    did = dossier["id"]
    await intake.publish(
        "deadline",
        did,
        ev.DeadlineTracked(
            scope="step", step_id="civil-status", started_at=now(), due_at=now() + timedelta(hours=8), budget_hours=8
        ),
    )
    await intake.publish(
        "routing",
        did,
        ev.StepAssigned(
            step_id="civil-status", agency_code="UBND-XA", agency_name="UBND xã (hộ tịch)", budget_hours=8, assigned_at=now()
        ),
    )
    await status_becomes(intake, client, did, 4)

    citizen = {"X-Forwarded-For": "203.0.113.7"}
    found = await client.post(
        f"{intake.url()}/lookup", json={"code": dossier["code"], "secret": dossier["lookup_secret"].lower()}, headers=citizen
    )
    assert found.status_code == 200, found.text
    view = found.json()
    assert view["status"] == 4 and view["status_label"] == "Đang giải quyết"
    assert view["applicant"] == "T*** T** M**"
    assert datetime.fromisoformat(view["appointment_at"]) == datetime.fromisoformat(dossier["appointment_at"])
    appointment = datetime.fromisoformat(dossier["appointment_at"]).astimezone(VN_TZ)  # also in Vietnam time
    assert view["appointment_local"] == appointment.isoformat(timespec="seconds")  # whole seconds, with +07:00
    assert view["appointment_text"] == f"{appointment:%H:%M} ngày {appointment:%d/%m/%Y}"
    assert [e["label"] for e in view["timeline"]] == [
        "Đã tiếp nhận",
        "Chuyển đến UBND xã (hộ tịch)",
    ]  # internal due times stay internal
    text = found.text
    for private in ("0987654321", "079190005678", "Trần Thị Mai", dossier["id"]):
        assert private not in text

    wrong = await client.post(f"{intake.url(1)}/lookup", json={"code": dossier["code"], "secret": "WRONG999"}, headers=citizen)
    unknown = await client.post(
        f"{intake.url()}/lookup", json={"code": "000.00.00.H30-000101-0001", "secret": dossier["lookup_secret"]}, headers=citizen
    )
    assert wrong.status_code == unknown.status_code == 404 and wrong.json()["detail"] == unknown.json()["detail"]

    # 3 attempts so far from this client; the limit is 5 per window, counted across both replicas
    for replica in (1, 0):
        assert (
            await client.post(
                f"{intake.url(replica)}/lookup", json={"code": dossier["code"], "secret": "NOPE2345"}, headers=citizen
            )
        ).status_code == 404
    limited = await client.post(
        f"{intake.url(1)}/lookup", json={"code": dossier["code"], "secret": dossier["lookup_secret"]}, headers=citizen
    )
    assert limited.status_code == 429 and limited.headers["content-type"] == "application/problem+json"
    assert 0 < int(limited.headers["Retry-After"]) <= 600
    neighbour = await client.post(
        f"{intake.url(1)}/lookup",
        json={"code": dossier["code"], "secret": dossier["lookup_secret"]},
        headers={"X-Forwarded-For": "203.0.113.8"},
    )
    assert neighbour.status_code == 200


async def test_staff_search_filters_pages_with_a_cursor_and_counts(intake: Intake, client: httpx.AsyncClient) -> None:
    tag = uuid.uuid4().hex[:6]
    name = f"Đỗ Văn {tag}"  # the applicant's full name: names are sealed, found only whole
    made = [await intake.submit(client, body_for(name), replica=i % 2) for i in range(5)]
    made.append(await intake.submit(client, {**LAND, "channel": 3, "applicant": {**LAND["applicant"], "name": name}}))
    await client.post(f"{intake.url()}/dossiers/{made[0]['id']}/refusal", json={"reason": "Hồ sơ giả mạo"})
    await intake.publish("deadline", made[1]["id"], ev.DeadlineOverdue(scope="dossier", due_at=now(), detected_at=now()))

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"q": name, "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(f"{intake.url(pages % 2)}/dossiers", params=params)).json()
        assert page["counts"]["total"] == 6
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == [d["id"] for d in reversed(made)]  # newest first, each once
    assert page["counts"]["by_status"] == {"2": 5, "3": 1}

    async def overdue_one() -> dict[str, Any] | None:
        r = (await client.get(f"{intake.url()}/dossiers", params={"q": name, "overdue": "true"})).json()
        return r if r["counts"]["total"] == 1 else None

    overdue = await eventually(overdue_one, "the overdue flag")
    assert overdue["items"][0]["id"] == made[1]["id"] and overdue["items"][0]["overdue"] is True

    async def search(**params: Any) -> set[str]:
        r = await client.get(f"{intake.url()}/dossiers", params={"q": name, **params})
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["items"]}

    assert await search(status=3) == {made[0]["id"]}
    assert await search(status=[2, 3], procedure_code="1.004193") == {made[5]["id"]}
    assert await search(field_code="DD") == await search(channel=3) == await search(agency_code="VPDKDD") == {made[5]["id"]}
    assert await search(received_from=made[3]["received_at"]) == {d["id"] for d in made[3:]}
    assert await search(received_to=made[3]["received_at"]) == {d["id"] for d in made[:3]}
    assert await search(q=made[2]["code"]) == {made[2]["id"]}
    bad = await client.get(f"{intake.url()}/dossiers", params={"cursor": "not-a-cursor", "status": 11})
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"cursor", "status"}


async def test_housekeeping_forgets_old_idempotency_keys_and_lookup_windows(intake: Intake, client: httpx.AsyncClient) -> None:
    from sqlalchemy import func, select, update

    from intake.adapters.tables import idempotency_keys, lookup_attempts
    from intake.application.housekeeping import purge_expired
    from intake.service import definition
    from intake.settings import IntakeSettings
    from services.runtime import Runtime

    key = f"old-{uuid.uuid4()}"
    first = await client.post(f"{intake.url()}/dossiers", json=body_for("Hồ Văn Cũ"), headers={"Idempotency-Key": key})
    runtime = Runtime(definition, IntakeSettings(service_name="intake"))
    try:
        async with runtime.sessionmaker() as session, session.begin():
            await session.execute(
                update(idempotency_keys).where(idempotency_keys.c.key == key).values(created_at=now() - timedelta(days=4))
            )
            await session.execute(
                lookup_attempts.insert().values(client="198.51.100.1", window_start=now() - timedelta(days=1), count=3)
            )
        settings = runtime.settings
        await purge_expired(
            runtime.wiring.uow,
            lookup_window_seconds=settings.lookup_rate_window_s,
            claims_ttl_hours=settings.idempotency_ttl_hours,
        )
        async with runtime.sessionmaker() as session:
            left = (
                await session.execute(
                    select(func.count()).select_from(lookup_attempts).where(lookup_attempts.c.client == "198.51.100.1")
                )
            ).scalar_one()
        assert left == 0
    finally:
        await runtime.engine.dispose()
    again = await client.post(f"{intake.url()}/dossiers", json=body_for("Hồ Văn Cũ"), headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.json()["id"] != first.json()["id"]  # an expired key starts afresh


async def test_killing_a_replica_mid_submission_loses_nothing_and_duplicates_nothing(
    intake: Intake, client: httpx.AsyncClient
) -> None:
    """Counter clients retry on the other replica with the same Idempotency-Key after a crash.
    Runs last in this module: it restarts the replica it kills."""
    tag = uuid.uuid4().hex[:8]
    count = 30

    async def submit(i: int) -> dict[str, Any]:
        await asyncio.sleep(i * 0.03)
        body, headers = body_for(f"Crash {tag}"), {"Idempotency-Key": f"{tag}-{i}"}
        for attempt in range(40):
            try:
                response = await client.post(f"{intake.url(0 if attempt == 0 else 1)}/dossiers", json=body, headers=headers)
                if response.status_code == 201:
                    return response.json()
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.25)
        raise AssertionError(f"submission {i} never succeeded")

    tasks = [asyncio.create_task(submit(i)) for i in range(count)]
    await asyncio.sleep(0.4)
    intake.replicas[0].kill()
    results = await asyncio.gather(*tasks)
    try:
        ids = {r["id"] for r in results}
        assert len(ids) == count and len({r["code"] for r in results}) == count
        search = (await client.get(f"{intake.url(1)}/dossiers", params={"q": f"Crash {tag}", "limit": 100})).json()
        assert search["counts"]["total"] == count and {i["id"] for i in search["items"]} == ids

        consumer = AIOKafkaConsumer(
            stage_topic(intake.prefix, "intake"),
            **kafka_options(intake.env),
            auto_offset_reset="earliest",
            group_id=None,
        )
        await consumer.start()
        received: dict[str, set[str]] = {}
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 45
            while len(received) < count and loop.time() < deadline:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        envelope = Envelope.from_bytes(record.value)
                        if envelope.dossier_id in ids and envelope.type == "dossier.received":
                            received.setdefault(envelope.dossier_id, set()).add(str(envelope.event_id))
        finally:
            await consumer.stop()
        assert set(received) == ids  # every dossier announced (the survivor's relay took over)
        assert all(len(events) == 1 for events in received.values())  # and announced as one event
    finally:
        intake.replicas[0].start()
        await asyncio.to_thread(intake.replicas[0].wait_ready)


# ---------------------------------------------------------------- dossiers through the LGSP, signed


def lgsp_request(
    body: dict[str, Any] | bytes,
    *,
    nonce: str | None = None,
    key: str = LGSP_KEY,
    client_id: str = "lgsp-tinh",
    timestamp: float | None = None,
) -> tuple[bytes, dict[str, str]]:
    """What the LGSP sends: the raw body and its HMAC headers, signed as the README says."""
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    ts, nonce = str(int(time.time() if timestamp is None else timestamp)), nonce or uuid.uuid4().hex
    signature = hmac.new(key.encode(), ts.encode() + b"\n" + nonce.encode() + b"\n" + raw, hashlib.sha256).hexdigest()
    headers = {
        "X-Client-Id": client_id,
        "X-Timestamp": ts,
        "X-Nonce": nonce,
        "X-Signature": signature,
        "Content-Type": "application/json",
    }
    return raw, headers


async def named(intake: Intake, client: httpx.AsyncClient, name: str) -> int:
    return (await client.get(f"{intake.url()}/dossiers", params={"q": name})).json()["counts"]["total"]


async def test_a_dossier_posted_through_the_lgsp_is_received_once_across_retries(
    intake: Intake, client: httpx.AsyncClient, identities: Identities
) -> None:
    lgsp = identities.auth("lgsp-tinh")
    body = body_for("Võ Thị Hồng Nhung", channel=2)
    nonce = uuid.uuid4().hex
    raw, headers = lgsp_request(body, nonce=nonce)
    first = await client.post(
        f"{intake.url(0)}/lgsp/dossiers", content=raw, headers={**headers, "X-Request-ID": "lgsp-req-0001"}, auth=lgsp
    )
    assert first.status_code == 201, first.text
    answer = first.json()
    assert answer["request_id"] == "lgsp-req-0001" and first.headers["X-Request-ID"] == "lgsp-req-0001"
    assert re.fullmatch(r"[A-Z0-9.-]+-\d{6}-\d{4}", answer["code"]) and answer["status"] == 2 and not answer["replayed"]

    # Received exactly as at the counter: the dossier, its receipt, one dossier.received, online.
    dossier = await intake.get(client, answer["id"])
    assert dossier["code"] == answer["code"] and dossier["channel"] == 2 and dossier["status"] == 2
    assert dossier["received_by"]["kind"] == "lgsp"
    assert dossier["received_by"]["name"] == "Nền tảng tích hợp, chia sẻ dữ liệu cấp tỉnh (LGSP)"
    receipt = await client.get(f"{intake.url()}/dossiers/{answer['id']}/receipt")
    assert receipt.status_code == 200 and receipt.json()["dossier_code"] == answer["code"]
    # the look-up secret comes back to the system that filed it, and opens the citizen's look-up
    assert answer["lookup_secret"] == receipt.json()["lookup_secret"]
    citizen = {"X-Forwarded-For": "203.0.113.21"}
    looked_up = await client.post(
        f"{intake.url()}/lookup", json={"code": answer["code"], "secret": answer["lookup_secret"]}, headers=citizen, auth=None
    )
    assert looked_up.status_code == 200 and looked_up.json()["code"] == answer["code"]

    # The LGSP did not hear back and retries: same nonce, same body, re-signed later, on the other replica.
    raw, headers = lgsp_request(body, nonce=nonce, timestamp=time.time() + 2)
    retry = await client.post(
        f"{intake.url(1)}/lgsp/dossiers", content=raw, headers={**headers, "X-Request-ID": "lgsp-req-0002"}, auth=lgsp
    )
    assert retry.status_code == 200, retry.text
    assert retry.json()["id"] == answer["id"] and retry.json()["code"] == answer["code"] and retry.json()["replayed"]
    assert retry.json()["lookup_secret"] == answer["lookup_secret"]
    assert retry.json()["request_id"] == "lgsp-req-0002"
    assert await named(intake, client, "Võ Thị Hồng Nhung") == 1
    received = [e for e in await intake.produced(answer["id"], 2, timeout=5) if e.type == "dossier.received"]
    assert len(received) == 1 and received[0].payload["channel"] == 2 and received[0].payload["fully_online"]
    (given,) = await intake.produced(answer["id"], 1, stream="contacts")  # for the notice of receipt's link, sealed for notify
    contact = ev.SealedContact.model_validate_json(
        contact_ring("intake").open(given.payload["contact"], purpose=CONTACT_PURPOSE) or ""
    )
    assert contact.lookup_secret == answer["lookup_secret"] and received[0].payload.get("lookup_secret") is None


async def test_lgsp_requests_badly_signed_stale_replayed_unknown_or_invalid_are_refused_and_create_nothing(
    intake: Intake, client: httpx.AsyncClient, identities: Identities
) -> None:
    url = f"{intake.url()}/lgsp/dossiers"
    lgsp = identities.auth("lgsp-tinh")

    async def post(raw: bytes, headers: dict[str, str], auth: httpx.Auth | None = lgsp) -> dict[str, Any]:
        response = await client.post(url, content=raw, headers=headers, auth=auth)
        assert response.headers["content-type"].startswith("application/problem+json"), response.text
        return {"status": response.status_code, **response.json()}

    name = "Đỗ Văn Khải"
    body = body_for(name, channel=2)
    raw, headers = lgsp_request(body)
    # Well signed, but without the LGSP's access token, or with another caller's.
    assert (await post(raw, headers, auth=None))["status"] == 401
    assert (await post(raw, headers, auth=identities.auth("counter")))["status"] == 403
    assert (await post(raw, headers, auth=identities.auth("cong-dvc-tinh")))["status"] == 403
    assert (await post(raw, {**headers, "X-Signature": "0" * 64}))["status"] == 401  # bad signature
    assert (await post(raw, {k: v for k, v in headers.items() if k != "X-Signature"}))["status"] == 401  # none at all
    assert (await post(raw.replace(b"Kh", b"KH"), headers))["status"] == 401  # body changed after signing
    assert (await post(*lgsp_request(body, key="guessed-key")))["status"] == 401
    assert (await post(*lgsp_request(body, client_id="intruder")))["status"] == 401  # unknown client
    assert (await post(*lgsp_request(body, client_id="dvcqg")))["status"] == 401  # listed, but no key configured
    stale = await post(*lgsp_request(body, timestamp=time.time() - 3600))
    assert stale["status"] == 401 and "stale" in stale["detail"]
    future = await post(*lgsp_request(body, timestamp=time.time() + 3600))
    assert future["status"] == 401

    # Invalid bodies, signed correctly: each field named.
    invalid = await post(*lgsp_request({**body, "applicant": {**body["applicant"], "citizen_id": "12"}}))
    assert invalid["status"] == 422 and invalid["errors"][0]["field"] == "applicant.citizen_id"
    counter = await post(*lgsp_request(body_for(name, channel=1)))
    assert counter["status"] == 422 and counter["errors"][0]["field"] == "channel"
    missing = await post(*lgsp_request(body_for(name, channel=2, documents=[{"code": "birth-certificate"}])))
    assert missing["status"] == 422 and any("documents" in e["field"] for e in missing["errors"]), missing
    assert (await post(*lgsp_request(b"{not json")))["status"] == 422
    assert await named(intake, client, name) == 0  # nothing created by any of these

    # A nonce used once cannot carry another dossier.
    nonce = uuid.uuid4().hex
    accepted = await client.post(url, content=(signed := lgsp_request(body, nonce=nonce))[0], headers=signed[1], auth=lgsp)
    assert accepted.status_code == 201, accepted.text
    replayed = await post(*lgsp_request(body_for("Kẻ Mạo Danh", channel=2), nonce=nonce))
    assert replayed["status"] == 409 and replayed["type"].endswith("replayed-request")
    assert await named(intake, client, "Kẻ Mạo Danh") == 0 and await named(intake, client, name) == 1

    # Every refusal is in the service's log, with its reason.
    log_text = intake.replicas[0].log_path.read_text(encoding="utf-8")
    refused = [json.loads(line) for line in log_text.splitlines() if "lgsp dossier refused" in line]
    reasons = {line.get("reason") for line in refused}
    assert {"bad-signature", "stale-request", "validation", "replayed-request"} <= reasons, reasons


# ---------------------------------------------------------------- who may do what, and who did it

H30, PHU_LOC = "000.00.00.H30", "000.01.30.H30"
CALLERS = (
    "anonymous",
    "counter",
    "counter_b",
    "leader",
    "specialist",
    "operator",
    "nobody",
    "admin",
    "cong-dvc-tinh",  # the provincial portal
    "lgsp-tinh",  # the LGSP
    "bhxh",  # an agency's system
)


def auth_of(identities: Identities, who: str) -> httpx.Auth | None:
    return None if who == "anonymous" else identities.auth(who)


async def audit_trail(intake: Intake, client: httpx.AsyncClient, dossier_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"{intake.url()}/audit-trail", params={"dossier_id": dossier_id})
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_each_role_reaches_exactly_its_endpoints_with_real_tokens(
    intake: Intake, client: httpx.AsyncClient, identities: Identities
) -> None:
    """Every intake route × every kind of caller. A dossier of unit H30, refused at the counter, is the
    subject: a caller allowed to act on it gets 409 (refused is final), so the table changes nothing."""
    counter = identities.auth("counter")
    dossier = await intake.submit(client, body_for("Bảng Quyền Hạn"))
    assert dossier["receiving_unit"] == H30
    refused = await client.post(f"{intake.url()}/dossiers/{dossier['id']}/refusal", json={"reason": "Hồ sơ mẫu"}, auth=counter)
    assert refused.status_code == 200, refused.text
    did = dossier["id"]

    wrong_secret = {"code": dossier["code"], "secret": "WRONG234"}
    readers = {"counter": 200, "leader": 200, "admin": 200, "counter_b": 404}  # counter_b serves Phú Lộc only
    counter_staff = {"counter": 409, "admin": 409, "counter_b": 404}
    everyone = dict.fromkeys(CALLERS, 200)
    # method, path, body, expected status per caller (403 for a caller not listed, 401 without a token)
    table: list[tuple[str, str, Any, dict[str, int]]] = [
        ("POST", "/dossiers", BODY, {"counter": 201, "counter_b": 201, "admin": 201, "cong-dvc-tinh": 422}),
        ("GET", "/dossiers", None, {"counter": 200, "counter_b": 200, "leader": 200, "admin": 200}),
        ("GET", f"/dossiers/{did}", None, readers),
        ("GET", f"/dossiers/{did}/receipt", None, readers),
        ("GET", f"/dossiers/{did}/receipt.html", None, readers),
        ("POST", f"/dossiers/{did}/supplement-requests", {"items": ["Tờ khai"]}, counter_staff),
        ("POST", f"/dossiers/{did}/supplements", {"items": ["Tờ khai"]}, counter_staff),
        ("POST", f"/dossiers/{did}/refusal", {"reason": "Lần nữa"}, counter_staff),
        ("POST", f"/dossiers/{did}/withdrawal", {}, counter_staff),
        ("POST", f"/dossiers/{did}/result-return", {"method": "counter"}, counter_staff),
        ("POST", "/lgsp/dossiers", "signed", {"lgsp-tinh": 201}),
        ("GET", f"/audit-trail?dossier_id={did}", None, {"operator": 200, "admin": 200}),
        ("GET", "/admin/dead-letters", None, {"operator": 200}),
        ("GET", "/catalogue", None, everyone),
        ("GET", "/catalogue/procedures/1.001193", None, everyone),
        ("POST", "/lookup", "citizen", dict.fromkeys(CALLERS, 404)),  # a token opens nothing without the secret
        ("POST", "/lookup/rating", "citizen", dict.fromkeys(CALLERS, 404)),
        ("GET", "/healthz", None, everyone),
    ]
    seen: dict[tuple[str, str], dict[str, int]] = {}
    expected: dict[tuple[str, str], dict[str, int]] = {}
    for method, path, body, allowed in table:
        key = (method, path.replace(did, "{id}"))
        expected[key] = {who: allowed.get(who, 401 if who == "anonymous" else 403) for who in CALLERS}
        seen[key] = {}
        for i, who in enumerate(CALLERS):
            headers: dict[str, str] = {"X-Forwarded-For": f"198.51.100.{100 + i}"}  # each caller its own look-up limit
            content: bytes | None = None
            if body == "signed":
                content, signed = lgsp_request(body_for(f"Liên thông {who}", channel=2))
                headers |= signed
            elif body == "citizen":
                content = json.dumps({**wrong_secret, "score": 5} if path.endswith("rating") else wrong_secret).encode()
                headers["Content-Type"] = "application/json"
            elif body is not None:
                content, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
            response = await client.request(
                method, f"{intake.url(i % 2)}{path}", content=content, headers=headers, auth=auth_of(identities, who)
            )
            seen[key][who] = response.status_code
            if response.status_code in (401, 403):
                assert response.headers["content-type"] == "application/problem+json", response.text
    assert seen == expected

    portal_online = await client.post(
        f"{intake.url()}/dossiers", json={**BODY, "channel": 2}, auth=identities.auth("cong-dvc-tinh")
    )
    assert portal_online.status_code == 201 and portal_online.json()["received_by"]["kind"] == "portal"
    after = await intake.get(client, did)
    assert after["status"] == 3 and [e["kind"] for e in after["timeline"]] == ["received", "refused"]  # the table changed nothing
    assert [e.type for e in await intake.produced(did, 3, timeout=5)] == ["dossier.received", "dossier.refused"]


async def test_an_officer_of_another_unit_gets_404_for_every_read_and_action_and_changes_nothing(
    intake: Intake, client: httpx.AsyncClient, identities: Identities
) -> None:
    name = f"Ngoài Phạm Vi {uuid.uuid4().hex[:6]}"
    counter, counter_b = identities.auth("counter"), identities.auth("counter_b")
    dossier = (await client.post(f"{intake.url()}/dossiers", json=body_for(name), auth=counter)).json()
    did, base = dossier["id"], f"{intake.url()}/dossiers/{dossier['id']}"
    unknown = uuid.uuid4()
    missing = await client.get(f"{intake.url()}/dossiers/{unknown}", auth=counter_b)
    assert missing.status_code == 404 and missing.json()["detail"] == f"no dossier {unknown}"

    attempts = [
        ("GET", "", None),
        ("GET", "/receipt", None),
        ("GET", "/receipt.html", None),
        ("POST", "/supplement-requests", {"items": ["Giấy chứng sinh (bản chính)"]}),
        ("POST", "/supplements", {"items": ["Giấy chứng sinh (bản chính)"]}),
        ("POST", "/refusal", {"reason": "Không thuộc thẩm quyền"}),
        ("POST", "/withdrawal", {"reason": "Nộp nhầm"}),
        ("POST", "/result-return", {"method": "counter"}),
    ]
    for method, path, body in attempts:
        response = await client.request(method, f"{base}{path}", json=body, auth=counter_b)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["detail"] == f"no dossier {did}"  # as for a missing one
    found = await client.get(f"{intake.url()}/dossiers", params={"q": name}, auth=counter_b)
    assert found.status_code == 200 and found.json()["counts"]["total"] == 0 and found.json()["items"] == []
    leader_b = await client.get(f"{intake.url()}/dossiers", params={"q": name}, auth=identities.auth("leader_b"))
    assert leader_b.json()["counts"]["total"] == 0
    leader = await client.get(f"{intake.url()}/dossiers", params={"q": name}, auth=identities.auth("leader"))
    assert [d["id"] for d in leader.json()["items"]] == [did]

    # Nothing changed, nothing announced, and nothing of it read by the other unit's officer.
    after = (await client.get(base, auth=counter)).json()
    assert after["status"] == 2 and [e["kind"] for e in after["timeline"]] == ["received"] and after["supplements"] == []
    assert [e.type for e in await intake.produced(did, 2, timeout=5)] == ["dossier.received"]
    assert "Phạm Văn Xã" not in {row["actor_name"] for row in await audit_trail(intake, client, did)}


async def test_the_officers_who_received_asked_and_refused_are_on_the_dossier_its_forms_events_and_audit_trail(
    intake: Intake, client: httpx.AsyncClient, identities: Identities
) -> None:
    name = f"Người Nộp {uuid.uuid4().hex[:6]}"
    counter, admin, leader = identities.auth("counter"), identities.auth("admin"), identities.auth("leader")

    elsewhere = await client.post(f"{intake.url()}/dossiers", json=body_for(name, receiving_unit=PHU_LOC), auth=counter)
    assert elsewhere.status_code == 422 and [e["field"] for e in elsewhere.json()["errors"]] == ["receiving_unit"]
    assert await named(intake, client, name) == 0

    received = await client.post(f"{intake.url()}/dossiers", json=body_for(name), auth=counter)
    assert received.status_code == 201, received.text
    dossier = received.json()
    did = dossier["id"]
    officer = dossier["received_by"]
    assert dossier["receiving_unit"] == H30  # the unit the officer serves
    assert (officer["kind"], officer["name"], officer["unit"]) == ("officer", "Nguyễn Thị Tiếp", H30)

    view = (await client.get(f"{intake.url()}/dossiers/{did}", auth=leader)).json()
    assert view["received_by"] == officer and view["timeline"][0]["detail"]["by"] == officer
    form1 = (await client.get(f"{intake.url(1)}/dossiers/{did}/receipt", auth=counter)).json()
    assert form1["received_by"] == "Nguyễn Thị Tiếp"
    html = (await client.get(f"{intake.url()}/dossiers/{did}/receipt.html", auth=admin)).text
    assert "NGƯỜI TIẾP NHẬN" in html and "Nguyễn Thị Tiếp" in html
    listed = await client.get(f"{intake.url()}/dossiers", params={"q": name}, auth=counter)
    assert [d["id"] for d in listed.json()["items"]] == [did]

    form2 = await client.post(f"{intake.url()}/dossiers/{did}/supplement-requests", json={"items": ["Tờ khai"]}, auth=counter)
    assert form2.status_code == 201 and form2.json()["officer"] == "Nguyễn Thị Tiếp"
    form3 = await client.post(f"{intake.url(1)}/dossiers/{did}/refusal", json={"reason": "Hồ sơ giả mạo"}, auth=admin)
    assert form3.status_code == 200 and form3.json()["officer"] == "Trần Quản Trị"

    events = await intake.produced(did, 3)
    assert [(e.type, e.actor.name if e.actor else None) for e in events] == [
        ("dossier.received", "Nguyễn Thị Tiếp"),
        ("dossier.supplement_requested", "Nguyễn Thị Tiếp"),
        ("dossier.refused", "Trần Quản Trị"),
    ]
    assert events[0].actor is not None and events[0].actor.model_dump() == officer
    assert events[2].actor is not None and (events[2].actor.kind, events[2].actor.unit) == ("officer", H30)
    timeline = (await intake.get(client, did))["timeline"]
    assert [(e["kind"], e["detail"]["by"]["name"]) for e in timeline] == [
        ("received", "Nguyễn Thị Tiếp"),
        ("supplement_requested", "Nguyễn Thị Tiếp"),
        ("refused", "Trần Quản Trị"),
    ]

    trail = [(row["action"], row["actor_name"], row["detail"]) for row in await audit_trail(intake, client, did)]
    assert trail[:9] == [
        ("dossier.contact_given", "Nguyễn Thị Tiếp", {}),  # the contact, sealed, for notify alone
        ("dossier.received", "Nguyễn Thị Tiếp", {}),
        ("read:dossier", "Hoàng Văn Lãnh", {}),
        ("read:receipt", "Nguyễn Thị Tiếp", {"form": "json"}),
        ("read:receipt", "Trần Quản Trị", {"form": "html"}),
        ("read:search", "Nguyễn Thị Tiếp", {}),
        ("dossier.supplement_requested", "Nguyễn Thị Tiếp", {}),
        ("dossier.refused", "Trần Quản Trị", {}),
        ("read:dossier", "Vũ Kiểm Thử", {}),  # the timeline just read, by the test's all-roles officer
    ]


async def test_the_citizen_rates_with_the_code_and_secret_of_the_receipt(
    intake: Intake, client: httpx.AsyncClient, identities: Identities
) -> None:
    counter = identities.auth("counter")
    dossier = (await client.post(f"{intake.url()}/dossiers", json=body_for("Đánh Giá Hài Lòng"), auth=counter)).json()
    did = dossier["id"]
    await intake.publish("routing", did, ev.RouteCompleted(completed_at=now(), result_documents=["TRICH-LUC-1"]))
    await status_becomes(intake, client, did, 9)
    returned = await client.post(f"{intake.url()}/dossiers/{did}/result-return", json={"method": "counter"}, auth=counter)
    assert returned.status_code == 200 and returned.json()["status"] == 10

    citizen = {"X-Forwarded-For": "203.0.113.60"}
    url = f"{intake.url()}/lookup/rating"
    wrong = await client.post(url, json={"code": dossier["code"], "secret": "WRONG234", "score": 1}, headers=citizen, auth=None)
    unknown = await client.post(
        url,
        json={"code": "000.00.00.H30-000101-0001", "secret": dossier["lookup_secret"], "score": 1},
        headers=citizen,
        auth=None,
    )
    assert wrong.status_code == unknown.status_code == 404 and wrong.json()["detail"] == unknown.json()["detail"]
    assert (await intake.get(client, did))["rating"] is None  # nothing changed

    rating = {"code": dossier["code"], "secret": dossier["lookup_secret"].lower(), "score": 5, "comment": "Cán bộ tận tình"}
    rated = await client.post(f"{intake.url(1)}/lookup/rating", json=rating, headers=citizen, auth=None)
    assert rated.status_code == 201, rated.text
    assert rated.json()["code"] == dossier["code"] and rated.json()["score"] == 5
    after = await intake.get(client, did)
    assert after["rating"] == 5 and after["timeline"][-1]["kind"] == "rated"
    again = await client.post(url, json=rating, headers=citizen, auth=None)
    assert again.status_code == 409 and again.json()["current_status"] == 10

    found = await client.post(
        f"{intake.url()}/lookup", json={"code": dossier["code"], "secret": dossier["lookup_secret"]}, headers=citizen, auth=None
    )
    assert found.status_code == 200 and found.json()["timeline"][-1]["label"] == "Đánh giá mức độ hài lòng: 5/5"

    events = await intake.produced(did, 3)
    rated_event = next(e for e in events if e.type == "dossier.rated")
    assert rated_event.payload["score"] == 5
    assert rated_event.actor is not None
    assert (rated_event.actor.kind, rated_event.actor.subject, rated_event.actor.name) == (
        "citizen",
        dossier["code"],
        "Người nộp hồ sơ",
    )
    trail = {row["action"]: row for row in await audit_trail(intake, client, did)}
    assert (
        trail["dossier.rated"]["actor_kind"] == "citizen" and trail["dossier.result_returned"]["actor_name"] == "Nguyễn Thị Tiếp"
    )
    assert trail["read:lookup"]["actor_kind"] == "citizen" and trail["read:lookup"]["actor_subject"] == dossier["code"]


# ---------------------------------------------------------------- personal data (Decree 13/2023)


def a_citizen() -> tuple[str, str, str]:
    """A citizen id, a mobile number and an e-mail address no other test uses."""
    n = uuid.uuid4().int
    return f"0791{n % 10**8:08d}", f"09{(n // 10**8) % 10**8:08d}", f"pd-{n % 10**6:06d}@example.vn"


def applicant_body(name: str, citizen_id: str, phone: str, email: str, **overrides: Any) -> dict[str, Any]:
    applicant = {"name": name, "citizen_id": citizen_id, "phone": phone, "email": email, "notify_channels": ["sms", "email"]}
    return {**BODY, **overrides, "applicant": applicant}


async def raw_rows(intake: Intake, query: str, *args: Any) -> list[str]:
    """Rows as PostgreSQL prints them (every column's stored text), as a dump would show them."""
    import asyncpg

    connection = await asyncpg.connect(intake.env["DATABASE_URL"].replace("+asyncpg", ""))
    try:
        return [r[0] for r in await connection.fetch(query, *args)]
    finally:
        await connection.close()


async def found_ids(intake: Intake, client: httpx.AsyncClient, q: str) -> set[str]:
    response = await client.get(f"{intake.url()}/dossiers", params={"q": q, "limit": 200})
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def test_the_applicant_is_sealed_at_rest_and_staff_find_it_by_exact_citizen_id_phone_or_full_name(
    intake: Intake, client: httpx.AsyncClient
) -> None:
    citizen_id, phone, email = a_citizen()
    name = f"Hoàng Thị Kín {uuid.uuid4().hex[:6]}"
    key = f"pd-{uuid.uuid4()}"
    response = await client.post(
        f"{intake.url()}/dossiers", json=applicant_body(name, citizen_id, phone, email), headers={"Idempotency-Key": key}
    )
    assert response.status_code == 201, response.text
    dossier = response.json()
    did = dossier["id"]

    stored = await raw_rows(intake, "SELECT d::text FROM intake.dossiers d WHERE id = $1", uuid.UUID(did))
    stored += await raw_rows(intake, "SELECT t::text FROM intake.timeline t WHERE dossier_id = $1", uuid.UUID(did))
    stored += await raw_rows(intake, "SELECT k::text FROM intake.idempotency_keys k WHERE key = $1", key)
    assert len(stored) == 3 and "pd1." in stored[0] and "pd1." in stored[2]
    for value in (citizen_id, phone, email, name, "Hoàng Thị Kín"):
        assert not any(value in row for row in stored), f"{value} in clear in intake's tables"

    # What crosses the backbone: routing and deadline read dossier.received, which names the
    # applicant only; the contact goes sealed on the private stream that notify alone reads.
    (received,) = [e for e in await intake.produced(did, 1) if e.type == "dossier.received"]
    assert received.payload["applicant_name"] == name
    assert received.payload.get("applicant") is None and received.payload.get("lookup_secret") is None
    assert not any(v in received.to_bytes().decode() for v in (citizen_id, phone, email))
    (given,) = await intake.produced(did, 1, stream="contacts")
    assert given.type == "dossier.contact_given" and phone not in given.to_bytes().decode()
    contact = ev.SealedContact.model_validate_json(
        contact_ring("intake").open(given.payload["contact"], purpose=CONTACT_PURPOSE) or ""
    )
    assert (contact.phone, contact.email, contact.lookup_secret) == (phone, email, dossier["lookup_secret"])

    # Staff search still finds it, by the whole citizen id, the phone as typed or the full name.
    assert did in await found_ids(intake, client, citizen_id)
    assert did in await found_ids(intake, client, f"+84 {phone[1:4]} {phone[4:7]} {phone[7:]}")
    assert did in await found_ids(intake, client, f"  {name.upper()} ")
    assert did not in await found_ids(intake, client, name[:-3])  # a part of a name finds nothing any more
    assert did not in await found_ids(intake, client, citizen_id[:-1] + str((int(citizen_id[-1]) + 1) % 10))

    # Every read opens what was sealed: the list, the receipt (form 1), the look-up's masked name, a retry's answer.
    (item,) = (await client.get(f"{intake.url()}/dossiers", params={"q": citizen_id})).json()["items"]
    assert item["applicant_name"] == name
    form1 = (await client.get(f"{intake.url(1)}/dossiers/{did}/receipt")).json()
    assert (form1["applicant_name"], form1["applicant_phone"], form1["applicant_email"]) == (name, phone, email)
    again = await client.post(
        f"{intake.url(1)}/dossiers", json=applicant_body(name, citizen_id, phone, email), headers={"Idempotency-Key": key}
    )
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == dossier


async def test_after_a_new_key_is_put_first_a_reseal_round_moves_the_rows_and_old_and_new_rows_open(
    intake: Intake, client: httpx.AsyncClient
) -> None:
    import os
    from pathlib import Path

    from intake.adapters.repository import IntakeRepository
    from intake.service import definition
    from intake.settings import IntakeSettings
    from services.identity import EVERYTHING
    from services.personal_data.keys import KeyRing, new_key, parse_ring
    from services.personal_data.rings import KEYRINGS_FILE
    from services.personal_data.rotation import reseal_round
    from services.runtime import Runtime

    citizen_id, phone, email = a_citizen()
    name = f"Đinh Văn Xoay {uuid.uuid4().hex[:6]}"
    old_row = await intake.submit(client, applicant_body(name, citizen_id, phone, email))
    rings = json.loads(Path(os.environ[KEYRINGS_FILE]).read_text())
    old = parse_ring(rings["intake"])
    index_key, fresh_key = base64.b64decode(rings["index"]), base64.b64decode(new_key())
    rotated = KeyRing({"i-new": fresh_key, **old}, index_key)  # a new key first, the old ones still open: as rings.rotate does

    runtime = Runtime(definition, IntakeSettings(service_name="intake"))
    try:

        async def key_ids(dossier_id: str) -> set[str]:
            rows = await raw_rows(
                intake,
                "SELECT split_part(applicant_sealed, '.', 2) || ' ' || split_part(applicant_name, '.', 2) FROM intake.dossiers WHERE id = $1",
                uuid.UUID(dossier_id),
            )
            return set(rows[0].split())

        async def opened(keys: KeyRing, dossier_id: str) -> dict[str, Any]:
            async with runtime.sessionmaker() as session:
                row = await IntakeRepository(session, keys).get(uuid.UUID(dossier_id), EVERYTHING)
            assert row is not None
            return row

        assert await key_ids(old_row["id"]) == {next(iter(old))}
        assert (await opened(rotated, old_row["id"]))["applicant"]["phone"] == phone  # an old row opens under the new ring
        async with runtime.sessionmaker() as session, session.begin():  # a row written after the rotation
            new_id = uuid.uuid4()
            fresh = await opened(rotated, old_row["id"])
            fresh.update(id=new_id, code=f"{fresh['code']}-R", applicant={**fresh["applicant"], "name": name + " Mới"})
            fresh["applicant_name"] = name + " Mới"
            fresh.pop("applicant_erased_at", None)
            await IntakeRepository(session, rotated).add_dossier(fresh)
        assert await key_ids(str(new_id)) == {"i-new"}

        while await reseal_round(runtime.sessionmaker, rotated, runtime.sealed_columns, batch=1000):
            pass
        assert await key_ids(old_row["id"]) == {"i-new"}
        assert await raw_rows(
            intake, "SELECT count(*)::text FROM intake.dossiers WHERE applicant_sealed NOT LIKE 'pd1.i-new.%'"
        ) == ["0"]
        assert await raw_rows(
            intake, "SELECT count(*)::text FROM intake.idempotency_keys WHERE response NOT LIKE 'pd1.i-new.%'"
        ) == ["0"]
        assert (await opened(rotated, old_row["id"]))["applicant"]["phone"] == phone
        assert (await opened(rotated, str(new_id)))["applicant_name"] == name + " Mới"
    finally:
        # The replicas hold the old ring only: move everything back under it (the old key first again).
        restore = KeyRing({**old, "i-new": fresh_key}, index_key)
        while await reseal_round(runtime.sessionmaker, restore, runtime.sealed_columns, batch=1000):
            pass
        await runtime.engine.dispose()
    form1 = (await client.get(f"{intake.url()}/dossiers/{old_row['id']}/receipt")).json()
    assert form1["applicant_phone"] == phone
    assert {old_row["id"], str(new_id)} <= await found_ids(intake, client, citizen_id)  # the blind index never rotates


async def test_retention_erases_the_applicant_of_a_dossier_ended_past_its_cutoff_and_nothing_else(
    intake: Intake, client: httpx.AsyncClient
) -> None:
    from intake.service import definition
    from intake.settings import IntakeSettings
    from services.runtime import Runtime

    people = [(f"Lưu Trữ {i} {uuid.uuid4().hex[:6]}", *a_citizen()) for i in range(3)]
    old_ended, new_ended, old_open = [await intake.submit(client, applicant_body(*p)) for p in people]
    for dossier in (old_ended, new_ended):
        withdrawn = await client.post(f"{intake.url()}/dossiers/{dossier['id']}/withdrawal", json={"reason": "Nộp nhầm"})
        assert withdrawn.status_code == 200, withdrawn.text
    long_ago = now() - timedelta(days=184)  # RETENTION_APPLICANT_DAYS is 183 by default
    for dossier in (old_ended, old_open):
        await raw_rows(
            intake, "UPDATE intake.dossiers SET updated_at = $2 WHERE id = $1 RETURNING ''", uuid.UUID(dossier["id"]), long_ago
        )

    runtime = Runtime(definition, IntakeSettings(service_name="intake"))
    try:
        erased = await runtime.enforce_retention()
    finally:
        await runtime.engine.dispose()
    assert erased["applicants"] >= 1

    (row,) = await raw_rows(
        intake,
        "SELECT concat_ws('|', applicant_sealed IS NULL, applicant_name, citizen_id_index IS NULL, phone_index IS NULL, "
        "name_index IS NULL, applicant_erased_at IS NOT NULL) FROM intake.dossiers WHERE id = $1",
        uuid.UUID(old_ended["id"]),
    )
    assert row == "t|[đã xoá]|t|t|t|t"
    assert old_ended["id"] not in await found_ids(intake, client, people[0][2])
    form1 = (await client.get(f"{intake.url()}/dossiers/{old_ended['id']}/receipt")).json()
    assert (form1["applicant_name"], form1["applicant_phone"], form1["applicant_email"]) == ("[đã xoá]", None, None)
    looked_up = await client.post(
        f"{intake.url()}/lookup",
        json={"code": old_ended["code"], "secret": old_ended["lookup_secret"]},
        headers={"X-Forwarded-For": "203.0.113.77"},
        auth=None,
    )
    assert looked_up.json()["applicant"] == "[đã xoá]"  # the dossier itself stays, its status and timeline
    # ended recently, or long ago but still in progress: kept whole
    for dossier, person in ((new_ended, people[1]), (old_open, people[2])):
        assert dossier["id"] in await found_ids(intake, client, person[2])
        assert (await client.get(f"{intake.url()}/dossiers/{dossier['id']}/receipt")).json()["applicant_name"] == person[0]
    audit = (await client.get(f"{intake.url()}/audit-trail", params={"dossier_id": old_ended["id"]})).json()
    assert any(e["action"] == "retention:erased" and e["detail"]["data_class"] == "applicants" for e in audit)


async def test_an_operator_exports_then_erases_what_intake_holds_about_a_citizen(
    intake: Intake, client: httpx.AsyncClient, identities: Identities
) -> None:
    citizen_id, phone, email = a_citizen()
    name = f"Quyền Công Dân {uuid.uuid4().hex[:6]}"
    ended = await intake.submit(client, applicant_body(name, citizen_id, phone, email))
    in_progress = await intake.submit(client, applicant_body(name, citizen_id, phone, email))
    other = await intake.submit(client, applicant_body(name, *a_citizen()[:1], phone, email))  # another citizen, same name
    await client.post(f"{intake.url()}/dossiers/{ended['id']}/withdrawal", json={"reason": "Không cần nữa"})
    url = f"{intake.url()}/personal-data/requests"

    bad = await client.post(url, json={"citizen_id": "07919", "kind": "export"})
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["citizen_id"]
    assert "07919" not in bad.text
    refused = await client.post(url, json={"citizen_id": citizen_id, "kind": "export"}, auth=identities.auth("leader"))
    assert refused.status_code == 403

    export = await client.post(url, json={"citizen_id": citizen_id, "kind": "export"})
    assert export.status_code == 201, export.text
    request = export.json()
    assert request["id"].startswith("pdr-") and request["kind"] == "export" and request["kept"] == []
    assert set(request["dossiers"]) == {ended["id"], in_progress["id"]}  # not the other citizen's
    for dossier in (ended, in_progress):
        (held,) = request["held"][dossier["id"]]["applicant"]
        assert (held["name"], held["citizen_id"], held["phone"], held["email"]) == (name, citizen_id, phone, email)
        assert held["dossier_code"] == dossier["code"]
        assert request["answers"][dossier["id"]] == {"intake": 1}  # its applicant
    assert request["complete"] is False
    assert request["codes"] == {d["id"]: d["code"] for d in (ended, in_progress)}
    stored = await raw_rows(intake, "SELECT r::text FROM intake.personal_data_requests r WHERE id = $1", request["id"])
    stored += await raw_rows(intake, "SELECT p::text FROM intake.personal_data_parts p WHERE request_id = $1", request["id"])
    assert stored and not any(v in row for row in stored for v in (citizen_id, phone, email, name))

    # Each dossier asked of routing, deadline and notify; their answers complete the request.
    for dossier in (ended, in_progress):
        asked = [e for e in await intake.produced(dossier["id"], 2) if e.type == "personal_data.requested"]
        assert [(e.payload["request_id"], e.payload["kind"]) for e in asked] == [(request["id"], "export")]
        for service in ("routing", "deadline", "notify"):
            answer = ev.PersonalDataAnswered(request_id=request["id"], kind="export", service=service, records=1)
            await intake.publish(service, dossier["id"], answer)

    async def completed() -> dict[str, Any] | None:
        read = (await client.get(f"{url}/{request['id']}")).json()
        return read if read["complete"] else None

    done = await eventually(completed, "every service's answer")
    assert done["answers"][ended["id"]].keys() == {"intake", "routing", "deadline", "notify"}
    assert done["held"][ended["id"]]["applicant"][0]["phone"] == phone
    assert (await client.get(f"{url}/{request['id']}", auth=identities.auth("leader"))).status_code == 403
    assert (await client.get(f"{url}/pdr-{uuid.uuid4().hex}")).status_code == 404

    erasure = await client.post(url, json={"citizen_id": citizen_id, "kind": "erasure"})
    assert erasure.status_code == 201, erasure.text
    erased = erasure.json()
    assert erased["dossiers"] == [ended["id"]] and erased["held"] == {}
    (kept,) = erased["kept"]
    assert kept["dossier_id"] == in_progress["id"] and kept["code"] == in_progress["code"] and "ended" in kept["reason"]
    assert erased["answers"][ended["id"]]["intake"] >= 1
    (row,) = await raw_rows(intake, "SELECT d::text FROM intake.dossiers d WHERE id = $1", uuid.UUID(ended["id"]))
    assert "pd1." not in row and "[đã xoá]" in row
    assert await found_ids(intake, client, citizen_id) >= {in_progress["id"]}
    assert ended["id"] not in await found_ids(intake, client, citizen_id)
    assert other["id"] in await found_ids(intake, client, name)  # another citizen's dossier untouched
    asked = [e for e in await intake.produced(ended["id"], 3) if e.type == "personal_data.requested"]
    assert [e.payload["kind"] for e in asked] == ["export", "erasure"]
    assert not [e for e in await intake.produced(in_progress["id"], 3, timeout=3) if e.payload.get("kind") == "erasure"]

    again = (await client.post(url, json={"citizen_id": citizen_id, "kind": "export"})).json()
    assert again["dossiers"] == [in_progress["id"]]  # nothing left to find the erased one by
    assert again["held"][in_progress["id"]]["applicant"][0]["name"] == name

    # The list, newest first, says what was asked and by whom, and names no citizen.
    listed = await client.get(url, params={"limit": 200})
    assert listed.status_code == 200
    mine = [r for r in listed.json() if r["id"] in {request["id"], erased["id"], again["id"]}]
    assert [(r["id"], r["kind"], r["dossiers"], r["kept"]) for r in mine] == [
        (again["id"], "export", 1, 0),
        (erased["id"], "erasure", 1, 1),
        (request["id"], "export", 2, 0),
    ]
    assert mine[2]["complete"] is True and not any(v in listed.text for v in (citizen_id, phone, email, name))
    assert (await client.get(url, auth=identities.auth("leader"))).status_code == 403
    assert (await client.get(url, params={"limit": 0})).status_code == 422
