"""Notify's test fixtures. For its use cases: an in-memory `NoticeRepository`, scripted channels
and the kernel's in-memory outbox, parking and unit of work (no database, no Kafka). Over the real
stack: its own database and topic prefix, a real SMTP server (aiosmtpd, STARTTLS and AUTH) and a
real HTTP server playing the SMS-brandname gateway, both on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import json
import os
import ssl
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote
from uuid import UUID

import httpx
import pytest
from aiokafka.structs import ConsumerRecord
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from conftest import Identities, free_port, kafka_options
from infra.processes import ServiceProcess
from infra.stack import LOGIN_PER_SERVICE, PROFILES, Stack
from notify.adapters.messages import Templates
from notify.application.dispatching import Outlet, Outlets, RateLimiter, Retries
from notify.application.notices import remember_contact, remember_receipt
from notify.application.ports import (
    Acceptance,
    Drafting,
    DueNotice,
    NewNotice,
    NoticeStatus,
    NotifyWork,
    Outcome,
    Outgoing,
    SentNotice,
)
from notify.domain.policy import Contact, DossierContact
from services.events import Envelope
from services.events.registry import Event
from services.events.schemas import ApplicantContact, ContactGiven, DossierReceived, SealedContact
from services.events.topics import stage_topic
from services.identity import Scope
from services.personal_data.keys import KeyRing
from services.personal_data.rings import CONTACT_PURPOSE, contact_ring
from services.testing import FakeUnitOfWork, MemoryAudit, MemoryParking, RecordedEvents


@pytest.fixture(scope="session", autouse=True)
def personal_data_keys() -> Iterator[None]:
    """The test profile's key rings (a file, made once; no server needed): in-process runtimes,
    migrations and the notify processes read their rings from it, and the tests seal contacts as
    intake does with the contact ring."""
    env = PROFILES["test"].personal_data_env()
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def contact_keys() -> KeyRing:
    return contact_ring("notify")


# ---------------------------------------------------------------- the contact apart from the receipt


def apart(event: DossierReceived, secret: str | None = None) -> tuple[ContactGiven, DossierReceived]:
    """A receipt written with its applicant, as intake now sends it: the contact, sealed, on the
    private stream (`dossier.contact_given`), and the receipt with the applicant's name only."""
    assert event.applicant is not None
    sealed = SealedContact(**event.applicant.model_dump(), lookup_secret=secret or event.lookup_secret)
    given = ContactGiven(contact=contact_keys().seal_json(sealed.model_dump(mode="json"), purpose=CONTACT_PURPOSE))
    receipt = event.model_copy(update={"applicant": None, "lookup_secret": None, "applicant_name": event.applicant.name})
    return given, receipt


def apart_envelopes(envelope: Envelope) -> tuple[Envelope, Envelope]:
    """`apart` for an envelope of `dossier.received`: the two envelopes of the same dossier."""
    given, receipt = apart(DossierReceived.model_validate(envelope.payload))
    return (
        given.envelope(dossier_id=envelope.dossier_id, producer="intake"),
        receipt.envelope(dossier_id=envelope.dossier_id, producer="intake"),
    )


async def receive(memory: MemoryNotify, envelope: Envelope, drafting: Drafting | None = None) -> None:
    """The contact given, then the receipt (as intake sends them), applied by notify's use cases."""
    given, receipt = apart_envelopes(envelope)
    await remember_contact(memory.work, drafting or memory.drafting, given, contact_keys())
    await remember_receipt(memory.work, drafting or memory.drafting, receipt)


# ---------------------------------------------------------------- in memory, for the use cases


class MemoryNotices:
    """A `NoticeRepository` in dicts: `rows` are the notices with every column the table has."""

    def __init__(self) -> None:
        self.contacts: dict[UUID, DossierContact] = {}
        self.ended: dict[UUID, datetime] = {}
        self.rows: dict[UUID, dict[str, Any]] = {}

    def of(self, dossier_id: str | UUID) -> list[dict[str, Any]]:
        return sorted((r for r in self.rows.values() if str(r["dossier_id"]) == str(dossier_id)), key=lambda r: r["created_at"])

    def fall_due(self) -> None:
        """Time passes: every notice waiting for a retry (or a lease) is due now."""
        for row in self.rows.values():
            row["next_attempt_at"] = datetime.now(UTC) - timedelta(seconds=1)

    async def contact(self, dossier_id: UUID) -> DossierContact | None:
        return self.contacts.get(dossier_id)

    async def add_contact(self, dossier_id: UUID, contact: Contact, lookup_secret: str | None) -> bool:
        if dossier_id in self.contacts:
            return False
        self.contacts[dossier_id] = DossierContact(None, None, contact, None, lookup_secret)
        return True

    async def add_receipt(self, dossier_id: UUID, code: str, procedure_name: str, receiving_unit: str | None) -> None:
        kept = self.contacts[dossier_id]
        if kept.code is None:
            self.contacts[dossier_id] = replace(kept, code=code, procedure_name=procedure_name, receiving_unit=receiving_unit)

    async def forget_lookup_secret(self, dossier_id: UUID) -> None:
        self.contacts[dossier_id] = replace(self.contacts[dossier_id], lookup_secret=None)

    async def mark_ended(self, dossier_id: UUID, at: datetime) -> bool:
        if dossier_id not in self.contacts:
            return False
        self.ended.setdefault(dossier_id, at)
        return True

    async def add_notices(self, notices: Sequence[NewNotice]) -> None:
        for notice in notices:
            self._add(notice)

    def _add(self, notice: NewNotice) -> None:
        key = (notice.dossier_id, notice.trigger_event_id, notice.channel, notice.recipient)
        if any((r["dossier_id"], r["trigger_event_id"], r["channel"], r["recipient"]) == key for r in self.rows.values()):
            return
        now = datetime.now(UTC)
        self.rows[notice.id] = {
            **vars(notice),
            "attempts": 0,
            "resends": 0,
            "gateway_id": None,
            "provider_message_id": None,
            "permanent": None,
            "created_at": now + timedelta(microseconds=len(self.rows)),  # in the order recorded
            "next_attempt_at": now,
            "held_until": None,
            "sent_at": None,
            "delivered_at": None,
            "failed_at": None,
        }

    async def claim_due(self, limit: int, lease_seconds: float) -> list[DueNotice]:
        now = datetime.now(UTC)
        due = sorted(
            (r for r in self.rows.values() if r["status"] in ("pending", "sending", "held") and r["next_attempt_at"] <= now),
            key=lambda r: (r["next_attempt_at"], r["created_at"]),
        )[:limit]
        claimed = []
        for row in due:
            in_doubt = row["status"] == "sending"  # an earlier claim ran out without an outcome
            row.update(status="sending", attempts=row["attempts"] + 1, next_attempt_at=now + timedelta(seconds=lease_seconds))
            fields = {name: row[name] for name in DueNotice.__dataclass_fields__ if name != "in_doubt"}
            claimed.append(DueNotice(**fields, in_doubt=in_doubt))
        return claimed

    async def hold_until(self, notice_id: UUID, release: datetime) -> None:
        row = self.rows[notice_id]
        if row["status"] == "sending":
            row.update(status="held", held_until=release, next_attempt_at=release, attempts=row["attempts"] - 1)

    async def renew_claim(self, notice_id: UUID, attempts: int, lease_seconds: float) -> bool:
        row = self.rows[notice_id]
        if row["status"] != "sending" or row["attempts"] != attempts:
            return False
        row["next_attempt_at"] = datetime.now(UTC) + timedelta(seconds=lease_seconds)
        return True

    async def mark_sent(self, notice_id: UUID, at: datetime, gateway_id: str, provider_message_id: str | None) -> bool:
        row = self.rows[notice_id]
        if row["status"] != "sending":
            return False
        row.update(status="sent", sent_at=at, gateway_id=gateway_id, provider_message_id=provider_message_id, last_error=None)
        return True

    async def retry_at(self, notice_id: UUID, error: str, at: datetime) -> None:
        row = self.rows[notice_id]
        if row["status"] == "sending":
            row.update(status="pending", last_error=error, next_attempt_at=at)

    async def mark_failed(self, notice_id: UUID, *, error: str, permanent: bool, at: datetime, gateway_id: str) -> bool:
        row = self.rows[notice_id]
        if row["status"] != "sending":
            return False
        row.update(status="failed", last_error=error, permanent=permanent, failed_at=at, gateway_id=gateway_id)
        return True

    async def sent_with(self, gateway_id: str) -> SentNotice | None:
        for row in self.rows.values():
            if gateway_id in (row["gateway_id"], row["provider_message_id"]):
                return SentNotice(
                    row["id"], row["dossier_id"], row["status"], row["trigger"], row["channel"], row["recipient_masked"]
                )
        return None

    async def mark_delivered(self, notice_id: UUID, at: datetime) -> None:
        self.rows[notice_id].update(status="delivered", delivered_at=at)

    async def mark_undelivered(self, notice_id: UUID, error: str, at: datetime) -> None:
        self.rows[notice_id].update(status="failed", failed_at=at, permanent=True, last_error=error)

    async def status_for_update(self, notice_id: UUID) -> NoticeStatus | None:
        row = self.rows.get(notice_id)
        return row["status"] if row else None

    async def erased(self, notice_id: UUID) -> bool:
        return self.rows[notice_id].get("erased_at") is not None

    async def send_again(self, notice_id: UUID, at: datetime) -> dict[str, Any]:
        row = self.rows[notice_id]
        row.update(status="pending", attempts=0, resends=row["resends"] + 1, next_attempt_at=at, failed_at=None, permanent=None)
        return dict(row)

    async def of_dossier(self, dossier_id: UUID, scope: Scope) -> list[dict[str, Any]] | None:
        dossier = self.contacts.get(dossier_id)
        if dossier is None or not scope.covers_unit(dossier.receiving_unit):
            return None
        return [dict(r) for r in self.of(dossier_id)]

    async def with_status(self, status: NoticeStatus, limit: int) -> list[dict[str, Any]]:
        rows = [dict(r) for r in self.rows.values() if r["status"] == status]
        return sorted(rows, key=lambda r: r["created_at"], reverse=True)[:limit]


@dataclass
class ScriptedChannel:
    """A channel that answers each recipient with the outcomes scripted for it, then accepts.
    Asked whether it already took an idempotency id, it answers what `took` says ("no" for an id
    it was never handed, "yes" for one it accepted), or raises when `took` holds an exception."""

    script: dict[str, list[Outcome]] = field(default_factory=dict)
    sent: list[Outgoing] = field(default_factory=list)
    took: dict[str, Acceptance | Exception] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    async def send(self, notice: Outgoing) -> Outcome:
        self.sent.append(notice)
        outcomes = self.script.get(notice.recipient)
        outcome = outcomes.pop(0) if outcomes else Outcome.accepted()
        if outcome.status == "accepted":
            self.took.setdefault(notice.idempotency_id, "yes")
        return outcome

    async def already_accepted(self, notice: Outgoing) -> Acceptance:
        self.asked.append(notice.idempotency_id)
        answer = self.took.get(notice.idempotency_id, "no")
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def close(self) -> None:
        return None


class MemoryNotify(NamedTuple):
    uow: FakeUnitOfWork[NotifyWork]
    notices: MemoryNotices
    events: RecordedEvents
    parking: MemoryParking
    drafting: Drafting
    channel: ScriptedChannel
    retries: Retries

    @property
    def work(self) -> NotifyWork:
        return self.uow.unit

    def outlets(self, quiet: Mapping[str, Any] | None = None) -> Outlets:
        """Every channel through the scripted one; `quiet` gives a channel its quiet hours."""
        return Outlets({c: Outlet(self.channel, RateLimiter(1000), (quiet or {}).get(c)) for c in ("sms", "email", "console")}, 4)


@pytest.fixture
def memory() -> MemoryNotify:
    notices, events, parking = MemoryNotices(), RecordedEvents(), MemoryParking()
    staff = {"CA-XA": ["cutru@ca-xa.example.vn", "truongcong@ca-xa.example.vn"], "*": ["tiepnhan@hcc.example.vn"]}
    drafting = Drafting(Templates(), "https://dvc.example.vn/tra-cuu?ma={code}", staff)
    return MemoryNotify(
        FakeUnitOfWork(NotifyWork(notices, events, parking, MemoryAudit())),
        notices,
        events,
        parking,
        drafting,
        ScriptedChannel(),
        Retries(max_attempts=3, base_seconds=2.0, cap_seconds=60.0),
    )


# ---------------------------------------------------------------- over the real stack

GATEWAY_USER, GATEWAY_PASSWORD = "motcua", "gw-secret"
SMTP_USER, SMTP_PASSWORD = "notify", "smtp-secret"
RECEIPT_TOKEN = "gw-callback-secret"  # what the gateway's delivery receipts carry
REJECTED_PHONE = "0900000400"  # the gateway refuses it with code 401
FLAKY_PHONE = "0900000503"  # two HTTP 503, then accepted
DOWN_PHONE = "0900000599"  # always HTTP 503


class LoopbackGateway:
    """An SMS-brandname gateway: honours the idempotency id (a repeated id is answered, not sent
    again), counts what would reach handsets, and can be slow, failing or frozen. Its status URL
    (`status_url`, GET) answers whether it took a request id: 200 with code 0, or 404."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.handset: Counter[str] = Counter()  # request id -> messages that reached the phone
        self.accept_anyway: set[str] = set()
        self.delay = 0.0
        self.in_flight = 0
        self.freeze_at: int | None = None  # stop answering once this many requests are in flight
        self.frozen = threading.Event()
        self.thaw = threading.Event()
        self.thaw.set()
        self._flaky: Counter[str] = Counter()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, answer = gateway.handle(body, dict(self.headers))
                try:
                    data = json.dumps(answer).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the caller died while we were slow

            def do_GET(self) -> None:
                request_id = unquote(self.path.removeprefix("/sms/status/"))
                with gateway.lock:
                    gateway.status_queries.append(request_id)
                    took = gateway.handset[request_id] > 0
                status, answer = (200, {"code": "0", "request_id": request_id}) if took else (404, {"code": "404"})
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.status_queries: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"
        self.status_url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/status/{{id}}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        expected = "Basic " + base64.b64encode(f"{GATEWAY_USER}:{GATEWAY_PASSWORD}".encode()).decode()
        request_id, phone = body.get("request_id"), body.get("to")
        with self.lock:
            self.requests.append({"at": time.monotonic(), "body": body, "headers": headers})
            if headers.get("Authorization") != expected:
                return 401, {"code": "AUTH", "message": "bad credentials"}
            if phone == DOWN_PHONE or (phone == FLAKY_PHONE and self._flaky[request_id] < 2):
                self._flaky[request_id] += 1
                return 503, {"code": "BUSY"}
            if phone == REJECTED_PHONE and phone not in self.accept_anyway:
                return 200, {"code": "401", "message": "Invalid phone number"}
            if self.handset[request_id] == 0:  # a repeated id is acknowledged, not sent again
                self.handset[request_id] += 1
            self.in_flight += 1
            if self.freeze_at is not None and self.in_flight >= self.freeze_at:
                self.thaw.clear()
                self.frozen.set()
        try:
            time.sleep(self.delay)
            self.thaw.wait(60)
        finally:
            with self.lock:
                self.in_flight -= 1
        return 200, {"code": "0", "message_id": f"gw-{request_id}"}

    def sent_to(self, phone: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["body"].get("to") == phone]

    def close(self) -> None:
        self.thaw.set()
        self.server.shutdown()


class Mailbox:
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address.endswith("@bounce.example.vn"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok)


@pytest.fixture(scope="module")
def gateway() -> Iterator[LoopbackGateway]:
    gw = LoopbackGateway()
    yield gw
    gw.close()


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture(scope="module")
def mailbox(tls_files: tuple[Path, Path]) -> Iterator[tuple[Mailbox, int]]:
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Mailbox()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticate,
        auth_required=True,
    )
    controller.start()
    yield box, controller.port
    controller.stop()


class Notify:
    """One notify process with its own database and topics, plus a way to publish other services'
    events; its API called with the test officers' tokens (`all`, the province administrator and
    operator, unless another is named)."""

    def __init__(self, env: dict[str, str], logs: Path, identities: Identities) -> None:
        self.env = env
        self.logs = logs
        self.identities = identities
        self.process: ServiceProcess | None = None
        self.starts = 0

    def start(self, **extra: str) -> ServiceProcess:
        self.starts += 1
        self.process = ServiceProcess(
            "notify", free_port(), {**self.env, **extra}, self.logs / f"notify-{self.starts}.log"
        ).start()
        self.process.wait_ready()
        return self.process

    @property
    def url(self) -> str:
        assert self.process is not None
        return self.process.url

    def call(self, method: str, path: str, who: str | None = "all", **kwargs: Any) -> httpx.Response:
        """A request as the test officer `who` (None: without a token)."""
        auth = self.identities.auth(who) if who is not None else None
        return httpx.request(method, f"{self.url}{path}", auth=auth, timeout=10, **kwargs)

    def receipt(self, body: dict[str, Any], token: str | None = RECEIPT_TOKEN) -> httpx.Response:
        """A delivery receipt, as the SMS gateway calls back."""
        headers = {"X-Callback-Token": token} if token is not None else {}
        return httpx.post(f"{self.url}/sms/delivery-receipts", json=body, headers=headers, timeout=10)

    def notices(self, dossier_id: str) -> list[dict[str, Any]]:
        """The dossier's delivery log; empty while notify knows nothing of the dossier (404)."""
        response = self.call("GET", f"/dossiers/{dossier_id}/notices")
        if response.status_code == 404:
            return []
        assert response.status_code == 200, response.text
        return list(response.json())

    def publish(self, *events: tuple[str, Event, str]) -> list[Envelope]:
        """(producing service, payload, dossier id) → on that service's topic, in order. A receipt
        written with its applicant goes as intake sends it: the contact on the private stream
        ("contacts"), then the receipt (`apart`)."""
        split: list[tuple[str, Event, str]] = []
        for source, event, dossier_id in events:
            if isinstance(event, DossierReceived) and event.applicant is not None:
                given, receipt = apart(event)
                split += [("contacts", given, dossier_id), (source, receipt, dossier_id)]
            else:
                split.append((source, event, dossier_id))
        events = tuple(split)
        envelopes = [
            event.envelope(dossier_id=dossier_id, producer="intake" if source == "contacts" else source)
            for source, event, dossier_id in events
        ]

        async def send() -> None:
            from aiokafka import AIOKafkaProducer

            producer = AIOKafkaProducer(**kafka_options(self.env), acks="all", enable_idempotence=True)
            await producer.start()
            try:
                for (source, _, dossier_id), envelope in zip(events, envelopes, strict=False):
                    topic = stage_topic(self.env["TOPIC_PREFIX"], source)
                    await producer.send_and_wait(topic, envelope.to_bytes(), key=dossier_id.encode())
            finally:
                await producer.stop()

        asyncio.run(send())
        return envelopes

    def events(self) -> list[Envelope]:
        """Everything notify has published so far."""

        async def read() -> list[Envelope]:
            from aiokafka import AIOKafkaConsumer, TopicPartition

            topic = stage_topic(self.env["TOPIC_PREFIX"], "notify")
            consumer = AIOKafkaConsumer(**kafka_options(self.env), enable_auto_commit=False)
            await consumer.start()
            try:
                partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or set())]
                if not partitions:
                    await consumer._client.force_metadata_update()  # noqa: SLF001 - a fresh client has no metadata yet
                    partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or set())]
                consumer.assign(partitions)
                await consumer.seek_to_beginning(*partitions)
                ends = await consumer.end_offsets(partitions)
                out: list[Envelope] = []
                remaining = {tp for tp in partitions if ends[tp] > 0}
                while remaining:
                    batches = await consumer.getmany(timeout_ms=1000)
                    for records in batches.values():
                        out += [Envelope.from_bytes(r.value) for r in records]
                    remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
                return out
            finally:
                await consumer.stop()

        return asyncio.run(read())

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


@pytest.fixture(scope="module")
def notify(
    stack: Stack,
    session_id: str,
    gateway: LoopbackGateway,
    mailbox: tuple[Mailbox, int],
    tls_files: tuple[Path, Path],
    identities: Identities,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Notify]:
    suffix = uuid.uuid4().hex[:6]
    database = f"motcua_n_{session_id}_{suffix}"
    stack.postgres.create_database(database)
    folder = tmp_path_factory.mktemp("notify")
    staff = folder / "agency_staff.json"
    staff.write_text(
        json.dumps({"CA-XA": ["cutru@ca-xa.example.vn", "truongcong@ca-xa.example.vn"], "*": ["tiepnhan@hcc.example.vn"]})
    )
    env = {
        **{k: v for k, v in stack.profile.env().items() if k == LOGIN_PER_SERVICE},
        **stack.profile.personal_data_env(),
        "DATABASE_URL": f"postgresql+asyncpg://motcua@127.0.0.1:{stack.profile.pg_port}/{database}",
        **stack.profile.kafka_env(),
        "OIDC_ISSUER": stack.profile.issuer,
        "TOPIC_PREFIX": f"n{session_id}{suffix}",
        "NOTIFY_SINK_PATH": str(folder / "sink.jsonl"),
        "NOTIFY_AGENCY_STAFF_FILE": str(staff),
        "NOTIFY_QUIET_HOURS": "",
        "NOTIFY_LOOKUP_URL": "https://dvc.example.vn/tra-cuu?ma={code}",
        "NOTIFY_SMS_GATEWAY_URL": gateway.url,
        "NOTIFY_SMS_USERNAME": GATEWAY_USER,
        "NOTIFY_SMS_PASSWORD": GATEWAY_PASSWORD,
        "NOTIFY_SMS_BRANDNAME": "UBND TINH",
        "NOTIFY_SMS_RATE_PER_SECOND": "5",
        "NOTIFY_SMS_RECEIPT_TOKEN": RECEIPT_TOKEN,
        "NOTIFY_SMTP_HOST": "127.0.0.1",
        "NOTIFY_SMTP_PORT": str(mailbox[1]),
        "NOTIFY_SMTP_SECURITY": "starttls",
        "NOTIFY_SMTP_CA_FILE": str(tls_files[0]),
        "NOTIFY_SMTP_USERNAME": SMTP_USER,
        "NOTIFY_SMTP_PASSWORD": SMTP_PASSWORD,
        "NOTIFY_SEND_CONCURRENCY": "4",
        "NOTIFY_SENDING_LEASE_SECONDS": "4",
        "NOTIFY_MAX_ATTEMPTS": "4",
        "NOTIFY_RETRY_BASE_SECONDS": "0.2",
        "NOTIFY_RETRY_CAP_SECONDS": "2",
        "NOTIFY_DISPATCH_POLL_MS": "100",
        "LOG_LEVEL": "INFO",
    }
    stack.kafka.provision(env["TOPIC_PREFIX"])
    service = Notify(env, folder, identities)
    service.start()
    try:
        yield service
    finally:
        service.stop()
        try:
            stack.postgres.psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        except Exception:
            pass


RECEIVED_AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def received(applicant: ApplicantContact, *, seq: int = 1, dossier_id: str | None = None) -> Envelope:
    """`dossier.received` for a birth registration filed online, as intake publishes it."""
    event = DossierReceived(
        dossier_code=f"000.00.00.H30-261123-{seq:04d}",
        procedure_code="1.001193",
        procedure_name="Đăng ký khai sinh",
        catalogue_version="test",
        receiving_unit="000.00.00.H30",
        channel=2,
        received_at=RECEIVED_AT,
        clock_starts_at=RECEIVED_AT,
        appointment_at=RECEIVED_AT + timedelta(days=2),
        budget_hours=16,
        route=[],
        applicant=applicant,
    )
    return event.envelope(dossier_id=dossier_id or str(uuid.uuid4()), producer="intake")


def consumer_record(envelope: Envelope) -> ConsumerRecord[bytes, bytes]:
    """The envelope as notify's consumer reads it off intake's topic (a contact: off its private stream)."""
    value = envelope.to_bytes()
    topic = "test.intake.contacts" if envelope.type == ContactGiven.event_type else "test.intake"
    return ConsumerRecord(topic, 0, 0, 0, 0, envelope.dossier_id.encode(), value, None, 0, len(value), [])


def consumer_records(envelope: Envelope) -> list[ConsumerRecord[bytes, bytes]]:
    """A receipt written with its applicant as notify now reads it: the contact, then the receipt."""
    return [consumer_record(e) for e in apart_envelopes(envelope)]
