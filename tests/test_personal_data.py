"""Personal data as Decree 13/2023 asks, proved on the four services as processes over real Kafka
and PostgreSQL, with an SMS gateway on loopback that refuses one number.

After a full run (dossiers with SMS and e-mail notices, an SMS the gateway refuses, a poison message
carrying personal data that three consumers dead-letter), no citizen id, phone number or e-mail
address is in clear text in any service's log, in the database's dump, on any Kafka topic or in the
notice sink; only the SMS gateway, the carrier, is handed the phone number (by design). Staff still
find a citizen's dossiers by citizen id or phone; a key rotation leaves old and new rows readable;
an export lists everything held about a citizen across the services, and an erasure leaves nothing
of it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.engine import make_url

from conftest import Identities, kafka_options
from infra.processes import SERVICES
from services.events.topics import stage_topic
from services.personal_data.rings import KEYRINGS_FILE, rotate
from tests.conftest import System, eventually, kafka_records, running

# The test citizen, whose data is followed everywhere; another citizen, whom an erasure must not touch;
# and a third, whose number the SMS gateway refuses.
CITIZEN_ID, PHONE, EMAIL, NAME = "079188123456", "0977123456", "tran.thi.mai@example.vn", "Trần Thị Mai"
OTHER_ID, OTHER_PHONE, OTHER_EMAIL = "079199654321", "0988765432", "le.van.binh@example.vn"
REFUSED_ID, REFUSED_PHONE = "079177111222", "0966111222"
SECRETS = (CITIZEN_ID, PHONE, EMAIL, OTHER_ID, OTHER_PHONE, OTHER_EMAIL, REFUSED_ID, REFUSED_PHONE)


class Gateway(ThreadingHTTPServer):
    """The SMS carrier's gateway: takes every number but one, which it refuses naming it, as gateways do."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), GatewayHandler)
        self.taken: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/sms"


class GatewayHandler(BaseHTTPRequestHandler):
    server: Gateway

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body["to"] == REFUSED_PHONE:
            answer = {"code": "12", "message": f"subscriber {body['to']} does not exist"}
        else:
            self.server.taken.append(body["to"])
            answer = {"code": "0", "message_id": uuid.uuid4().hex}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    server = Gateway()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def guarded(
    migrated: dict[str, str], identities: Identities, gateway: Gateway, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    env = {
        **migrated,
        "NOTIFY_SMS_GATEWAY_URL": gateway.url,
        "NOTIFY_SMS_USERNAME": "motcua",
        "NOTIFY_SMS_PASSWORD": "pw",
        "ROTATION_INTERVAL_SECONDS": "1",
        "NOTIFY_QUIET_HOURS": "",  # the SMS go out whatever the hour the test runs at
    }
    with running(env, tmp_path_factory.mktemp("logs"), identities) as system:
        yield system


def dossier_body(citizen_id: str, phone: str, email: str | None, name: str = NAME) -> dict[str, Any]:
    applicant: dict[str, Any] = {"name": name, "citizen_id": citizen_id, "phone": phone, "notify_channels": ["sms"]}
    if email:
        applicant |= {"email": email, "notify_channels": ["sms", "email"]}
    return {"procedure_code": "1.004227", "channel": 1, "documents": [{"code": "request-form"}], "applicant": applicant}


def notices(system: System, dossier_id: str) -> list[dict[str, Any]]:
    return system.get("notify", f"/dossiers/{dossier_id}/notices") or []


def final(system: System, dossier_id: str, count: int) -> list[dict[str, Any]] | None:
    found = notices(system, dossier_id)
    return found if len(found) >= count and all(n["status"] in ("sent", "delivered", "failed") for n in found) else None


async def publish_poison(env: dict[str, str]) -> None:
    """A `dossier.received` that breaks its schema and carries personal data, on intake's topic."""
    poison = {
        "event_id": str(uuid.uuid4()),
        "type": "dossier.received",
        "version": 1,
        "dossier_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
        "causation_id": None,
        "producer": "intake",
        "occurred_at": "2026-11-30T09:00:00+07:00",
        "payload": {"dossier_code": "X", "applicant": {"name": NAME, "citizen_id": CITIZEN_ID, "phone": PHONE, "email": EMAIL}},
    }
    producer = AIOKafkaProducer(**kafka_options(env))
    await producer.start()
    try:
        await producer.send_and_wait(stage_topic(env["TOPIC_PREFIX"], "intake"), json.dumps(poison).encode(), key=b"poison")
    finally:
        await producer.stop()


def pg_dump(env: dict[str, str]) -> bytes:
    url = make_url(env["DATABASE_URL"])
    return subprocess.run(
        ["pg_dump", "-h", url.host or "127.0.0.1", "-p", str(url.port), "-U", "motcua", "--data-only", url.database or ""],
        check=True,
        capture_output=True,
    ).stdout


def request(system: System, citizen_id: str, kind: str) -> dict[str, Any]:
    response = system.http.post(f"{system.url('intake')}/personal-data/requests", json={"citizen_id": citizen_id, "kind": kind})
    assert response.status_code in (200, 201, 202), response.text
    created = response.json()
    return eventually(
        lambda: (r := system.get("intake", f"/personal-data/requests/{created['id']}")) and r["complete"] and r,
        what=f"every service's part of the {kind}",
    )


def held(system: System, request_id: str) -> dict[str, list[dict[str, Any]]]:
    """What each service says it held (export) or erased, by service."""
    return {name: system.get(name, f"/personal-data/requests/{request_id}/held") for name in SERVICES}


def test_a_full_run_leaves_no_personal_data_in_clear_text_outside_where_the_design_puts_it(
    guarded: System, gateway: Gateway
) -> None:
    system = guarded
    mine = [system.submit(dossier_body(CITIZEN_ID, PHONE, EMAIL)) for _ in range(2)]
    other = system.submit(dossier_body(OTHER_ID, OTHER_PHONE, OTHER_EMAIL, "Lê Văn Bình"))
    refused = system.submit(dossier_body(REFUSED_ID, REFUSED_PHONE, None, "Phạm Văn Cường"))
    asyncio.run(publish_poison(system.env))

    for dossier in (*mine, other):
        eventually(lambda d=dossier: final(system, d["id"], 2), what="the receipt's SMS and e-mail")
    failed = eventually(lambda: final(system, refused["id"], 1), what="the refused SMS")
    assert failed[0]["status"] == "failed", "the gateway refused the number"
    assert PHONE in gateway.taken, "the carrier is handed the number: the one place it goes by design"
    for name in ("routing", "deadline", "notify"):
        eventually(lambda n=name: system.get(n, "/admin/dead-letters"), what=f"{name}'s dead letter of the poison message")

    # Staff search through the blind index: by citizen id, by phone however written, not by a near miss.
    for q in (CITIZEN_ID, PHONE, "+84" + PHONE[1:]):
        found = system.get("intake", f"/dossiers?q={q.replace('+', '%2B')}")
        assert {d["id"] for d in found["items"]} == {d["id"] for d in mine}, q
    assert system.get("intake", f"/dossiers?q={CITIZEN_ID[:-1]}")["items"] == []

    # Nowhere in clear: every log, the database's dump, every topic (the contacts stream included), the sink.
    for log in system.logs.glob("*.log"):
        text = log.read_text(encoding="utf-8", errors="replace")
        for secret in SECRETS:
            assert secret not in text, f"{secret} in {log.name}"
    dump = pg_dump(system.env)
    for secret in SECRETS:
        assert secret.encode() not in dump, (
            f"{secret} in the database ({dump[max(0, dump.find(secret.encode()) - 300) :][:400]!r})"
        )
    records = asyncio.run(kafka_records(system.env))
    assert {r.topic for r in records} >= {stage_topic(system.env["TOPIC_PREFIX"], "contacts")}
    for record in records:
        if record.key == b"poison":
            continue  # the bad producer's own message, as it wrote it: the system's copies are what count
        seen = record.value + b" ".join(v for _, v in record.headers)
        for secret in SECRETS:
            assert secret.encode() not in seen, f"{secret} on {record.topic}: {seen[:300]!r}"
    sink = Path(system.env["NOTIFY_SINK_PATH"]).read_text(encoding="utf-8")
    assert '"channel": "email"' in sink, "the e-mails went to the sink"
    for secret in SECRETS:
        assert secret not in sink, f"{secret} in the sink"

    # The citizen's rights: an export lists everything held, across the services.
    export = request(system, CITIZEN_ID, "export")
    assert {d for d in export["dossiers"]} == {d["id"] for d in mine}
    parts = held(system, export["id"])
    everything = json.dumps(parts, ensure_ascii=False)
    for value in (CITIZEN_ID, PHONE, EMAIL, NAME):
        assert value in everything, f"the export lacks {value}"
    assert OTHER_ID not in everything and OTHER_PHONE not in everything
    assert all(len(parts[name]) == len(mine) for name in SERVICES), "each service answered for each dossier"
    assert sum(len(p["held"].get("notices", [])) for p in parts["notify"]) >= 4, "every notice of both dossiers"

    # An erasure, once the dossiers ended, leaves nothing of the citizen; the other citizen keeps everything.
    for dossier in mine:
        response = system.http.post(f"{system.url('intake')}/dossiers/{dossier['id']}/withdrawal", json={"reason": "rút hồ sơ"})
        assert response.status_code == 200, response.text
    erasure = request(system, CITIZEN_ID, "erasure")
    assert set(erasure["dossiers"]) == {d["id"] for d in mine} and not erasure.get("kept")
    assert all(part["records"] > 0 for part in held(system, erasure["id"])["notify"])
    assert system.get("intake", f"/dossiers?q={CITIZEN_ID}")["items"] == []
    after = request(system, CITIZEN_ID, "export")
    assert after["dossiers"] == [], "nothing is held about the citizen any more"
    for dossier in mine:
        shown = json.dumps(system.get("intake", f"/dossiers/{dossier['id']}/receipt"), ensure_ascii=False)
        shown += json.dumps(notices(system, dossier["id"]), ensure_ascii=False)
        for value in (CITIZEN_ID, PHONE, EMAIL, NAME):
            assert value not in shown, f"{value} survived the erasure"
    assert [d["id"] for d in system.get("intake", f"/dossiers?q={OTHER_ID}")["items"]] == [other["id"]]


def test_after_a_key_rotation_rows_sealed_under_the_old_key_and_the_new_one_both_read(guarded: System) -> None:
    system = guarded
    before = system.submit(dossier_body("079166333444", "0933444555", None, "Đỗ Thị Hoa"))
    new_key = rotate(Path(system.env[KEYRINGS_FILE]), "intake")
    system.processes["intake"][0].stop()
    system.start("intake", replica=0)
    after = system.submit(dossier_body("079166333445", "0933444556", None, "Đỗ Văn Hùng"))
    for dossier, citizen_id, phone, name in (
        (before, "079166333444", "0933444555", "Đỗ Thị Hoa"),
        (after, "079166333445", "0933444556", "Đỗ Văn Hùng"),
    ):
        receipt = system.get("intake", f"/dossiers/{dossier['id']}/receipt")
        assert (receipt["applicant_name"], receipt["applicant_phone"]) == (name, phone)
        assert [d["id"] for d in system.get("intake", f"/dossiers?q={citizen_id}")["items"]] == [dossier["id"]]
    # The background re-sealing moves every older value to the new key.
    eventually(
        lambda: (
            'motcua_personal_data_stale_key_values{column="intake.dossiers.applicant_sealed"} 0.0'
            in system.http.get(f"{system.url('intake')}/metrics").text
        ),
        what=f"every intake value moved to key {new_key}",
    )
