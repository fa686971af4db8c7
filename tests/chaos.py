"""The actors of the chaos test: citizens filing dossiers, agencies' systems working their inboxes
over routing's REST API (signed in to Keycloak by client credentials), the counter handing in
supplements and returning results, and the chaos monkey killing processes. Each actor is a thread that keeps going through any failure: a refused
connection, a 5xx, a timeout or a 409 is retried or re-read, never counted as progress."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from infra.stack import Kafka, Postgres, Stack
from tests.conftest import System

COUNTER, ONLINE = 1, 2  # filing channels
UNITS = ("000.00.00.H30", "000.01.30.H30")  # the catalogue's receiving units
AGENCIES = [  # each agency's system is a client of the realm, with its agency's code in its tokens
    {"code": "UBND-XA", "name": "UBND xã (hộ tịch)", "client_id": "ubnd-xa"},
    {"code": "CA-XA", "name": "Công an xã (cư trú)", "client_id": "ca-xa"},
    {"code": "BHXH", "name": "Bảo hiểm xã hội", "client_id": "bhxh"},
    {"code": "VPDKDD", "name": "Chi nhánh Văn phòng đăng ký đất đai", "client_id": "vpdkdd"},
    {"code": "THUE-CS", "name": "Thuế cơ sở", "client_id": "thue-cs"},
]


@dataclass(frozen=True)
class Script:
    """What happens to one kind of dossier, and where it must end."""

    name: str
    procedure_code: str
    documents: tuple[str, ...]
    channels: tuple[str, ...]
    supplement_step: str | None = None  # the agency asks the citizen for more at this step, once
    fee_step: str | None = None  # the agency asks for a fee at this step, once, and it is paid
    returned: bool = False  # the result is handed over at the counter afterwards

    @property
    def final_status(self) -> int:
        return 10 if self.returned else 9

    def triggers(self) -> set[str]:
        """The citizen's notices this script must produce, per channel."""
        found = {"dossier.received", "routing.route_completed"}
        if self.supplement_step:
            found.add("dossier.supplement_requested")
        if self.fee_step:
            found.add("routing.fee_requested")
        if self.returned:
            found.add("dossier.result_returned")
        return found


SCRIPTS = (
    Script("birth-group", "1.001193", ("birth-certificate", "interlinked-form"), ("sms",), returned=True),
    Script("copy", "1.004227", ("request-form",), ("sms", "email")),
    Script("copy-with-supplement", "1.004227", ("request-form",), ("email",), supplement_step="civil-status", returned=True),
    Script(
        "land-transfer-with-tax",
        "1.004193",
        ("change-form", "transfer-contract", "certificate", "tax-declaration"),
        ("sms",),
        fee_step="tax-notice",
    ),
    Script(
        "birth-group-with-supplement",
        "1.001193",
        ("birth-certificate", "interlinked-form"),
        ("sms", "email"),
        supplement_step="health-insurance",
    ),
)


def dossier_body(i: int, script: Script) -> dict[str, Any]:
    applicant: dict[str, Any] = {
        "name": f"Công dân Thử {i}",
        "citizen_id": f"0791{i:08d}",
        "notify_channels": list(script.channels),
    }
    if "sms" in script.channels:
        applicant["phone"] = f"09{i % 10**8:08d}"
    if "email" in script.channels:
        applicant["email"] = f"cong.dan.{i}@example.vn"
    channel = COUNTER if script.returned else ONLINE  # who filed at the counter collects the result there
    # A unit numbers at most 9,999 dossiers a day (the code's 4-digit sequence), so a large run
    # files at both of the catalogue's units.
    return {
        "procedure_code": script.procedure_code,
        "channel": channel,
        "receiving_unit": UNITS[i // len(SCRIPTS) % len(UNITS)],
        "documents": [{"code": c} for c in script.documents],
        "applicant": applicant,
    }


class OwnPostgres(Postgres):
    """The profile's own server, even while DATABASE_URL (set for the services) names it."""

    @property
    def external(self) -> bool:
        return False


class Stopped(Exception):
    pass


@dataclass
class Run:
    system: System
    stack: Stack
    kafka: Kafka  # the cluster the services use
    database: str
    total: int
    stop: threading.Event = field(default_factory=threading.Event)
    scripts: dict[str, Script] = field(default_factory=dict)  # dossier id -> script
    lock: threading.Lock = field(default_factory=threading.Lock)
    stats: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    chaos_log: list[str] = field(default_factory=list)
    relay_gaps: list[str] = field(default_factory=list)  # how long each relay was without a working leader
    faults_done: int = 0
    submitted: threading.Event = field(default_factory=threading.Event)
    local: threading.local = field(default_factory=threading.local)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def count(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.stats[what] += n

    def client(self) -> httpx.Client:
        """Each actor thread keeps its connections open, as a real client would; a killed service's
        broken connections fail the call, which is retried on a new one. Staff calls are made as
        the test officer holding every staff role; an agency's calls pass their own `auth`."""
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = httpx.Client(timeout=10, auth=self.system.identities.auth("all"))
        return client

    def url(self, name: str) -> str:
        """Any live replica, as a load balancer would pick (a frozen one answers nothing: the call times out and is retried)."""
        alive = [p for p in self.system.processes[name] if p.alive()]
        if not alive:  # every replica down at this instant
            raise httpx.ConnectError(f"{name} is down")
        return random.choice(alive).url

    def request(
        self, method: str, service: str, path: str, *, retry_on: Callable[[httpx.Response], bool] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One call that survives the faults: retried on a refused connection, a timeout or a 5xx."""
        while not self.stop.is_set():
            try:
                response = self.client().request(method, f"{self.url(service)}{path}", **kwargs)
            except httpx.HTTPError:
                self.count(f"retries.{service}")
                time.sleep(0.3)
                continue
            if response.status_code >= 500 or response.status_code == 429 or (retry_on and retry_on(response)):
                self.count(f"retries.{service}")
                time.sleep(0.3)
                continue
            return response
        raise Stopped

    def guard(self, name: str, body: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                body()
            except Stopped:
                pass
            except Exception:  # an actor that dies is a failure of the test, shown at the end
                self.errors.append(f"{name}: {traceback.format_exc()}")

        return run

    # ------------------------------------------------------------ citizens at the counter

    def submit_all(self, pace_seconds: float, citizens: int = 4) -> None:
        """File every dossier, `citizens` at a time, spread over `pace_seconds`; a failed POST is
        retried with the same Idempotency-Key."""
        start = time.monotonic()

        def citizen(first: int) -> None:
            for i in range(first, self.total, citizens):
                script = SCRIPTS[i % len(SCRIPTS)]
                key = f"chaos-{uuid.uuid4()}"
                response = self.request(
                    "POST", "intake", "/dossiers", json=dossier_body(i, script), headers={"Idempotency-Key": key}
                )
                assert response.status_code == 201, f"dossier {i}: {response.status_code} {response.text}"
                with self.lock:
                    self.scripts[response.json()["id"]] = script
                self.count("submitted")
                ahead = start + pace_seconds * (i + 1) / self.total - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)

        threads = [
            threading.Thread(target=self.guard(f"citizen {n}", lambda n=n: citizen(n)), daemon=True) for n in range(citizens)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.stats["submitted"] == self.total:
            self.submitted.set()

    # ------------------------------------------------------------ agencies over routing's REST API

    def agency(self, client_id: str) -> None:
        auth = self.system.identities.auth(client_id)  # a token from Keycloak, fetched again before it expires
        while not self.stop.is_set():
            inbox = self.request(
                "GET",
                "routing",
                "/agency/steps",
                auth=auth,
                params={"state": ["assigned", "accepted", "fee"], "page_size": 200},
            )
            assert inbox.status_code == 200, inbox.text
            items = [s for s in inbox.json()["items"] if s["dossier_id"] in self.scripts]
            random.shuffle(items)
            for step in items:
                self.act_on(step, self.scripts[step["dossier_id"]], auth)
            if not items:
                time.sleep(0.5)

    def act_on(self, step: dict[str, Any], script: Script, auth: httpx.Auth) -> None:
        dossier_id, step_id, state = step["dossier_id"], step["step_id"], step["state"]
        body: dict[str, Any] = {}
        if state == "assigned":
            action = "accept"
        elif state == "fee":
            action, body = "fee-payment", {**body, "amount_vnd": 1_250_000, "receipt_ref": f"BL-{dossier_id[:8]}"}
        elif step_id in (script.supplement_step, script.fee_step) and not self.handed_over(
            dossier_id, step_id, "supplement" if step_id == script.supplement_step else "fee"
        ):
            if step_id == script.supplement_step:
                action, body = "supplement", {**body, "items": ["Bản sao giấy tờ tùy thân"], "reason": "Thiếu giấy tờ"}
            else:
                action, body = "fee", {**body, "amount_vnd": 1_250_000, "description": "Thuế thu nhập cá nhân và lệ phí trước bạ"}
        else:
            action, body = "complete", {**body, "result_documents": [f"doc://{step_id}/{dossier_id[:8]}"]}
        answer = self.request("POST", "routing", f"/agency/steps/{dossier_id}/{step_id}/{action}", auth=auth, json=body)
        if answer.status_code == 200:
            self.count(f"agency.{action}")
        elif answer.status_code == 409:  # done already (an answer lost to a kill) or moved on: re-read next round
            self.count("agency.conflicts")
        else:
            raise AssertionError(f"{action} {dossier_id}/{step_id}: {answer.status_code} {answer.text}")

    def handed_over(self, dossier_id: str, step_id: str, action: str) -> bool:
        """From the control sheet (form 5), not from memory: an answer lost to a kill still counts."""
        route = self.request("GET", "routing", f"/dossiers/{dossier_id}/route")
        assert route.status_code == 200, route.text
        return any(h["step_id"] == step_id and h["action"] == action for h in route.json()["handovers"])

    # ------------------------------------------------------------ the counter at intake

    def search(self, **filters: Any) -> dict[str, Any]:
        page = self.request("GET", "intake", "/dossiers", params={"received_from": self.started_at.isoformat(), **filters})
        assert page.status_code == 200, page.text
        return page.json()

    def in_status(self, status: int, **filters: Any) -> list[str]:
        """This run's dossiers in a status (every dossier received since it started is one of ours)."""
        found: list[str] = []
        cursor: str | None = None
        while True:
            data = self.search(status=status, limit=200, **({"cursor": cursor} if cursor else {}), **filters)
            found += [d["id"] for d in data["items"] if d["id"] in self.scripts]
            cursor = data.get("next_cursor")
            if not cursor:
                return found

    def counter(self) -> None:
        while not self.stop.is_set():
            acted = False
            for dossier_id in self.in_status(5):
                answer = self.request(
                    "POST", "intake", f"/dossiers/{dossier_id}/supplements", json={"items": ["Bản sao giấy tờ tùy thân"]}
                )
                assert answer.status_code in (200, 409), answer.text
                self.count("counter.supplements" if answer.status_code == 200 else "counter.conflicts")
                acted = True
            # Results are returned at the counter for dossiers filed there (channel 1), and only those.
            for dossier_id in self.in_status(9, channel=COUNTER):
                answer = self.request("POST", "intake", f"/dossiers/{dossier_id}/result-return", json={"method": "counter"})
                assert answer.status_code in (200, 409), answer.text
                self.count("counter.result_returns" if answer.status_code == 200 else "counter.conflicts")
                acted = True
            if not acted:
                time.sleep(1)

    def finished(self) -> int:
        """How many of this run's dossiers have reached their final status at intake."""
        returned = self.search(status=10, channel=COUNTER, limit=1)["counts"]["total"]
        ready = self.search(status=9, channel=ONLINE, limit=1)["counts"]["total"]
        return returned + ready

    # ------------------------------------------------------------ the faults

    def note(self, what: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {what}"
        self.chaos_log.append(line)
        print(f"[chaos] {line}", flush=True)

    def restart_service(self, name: str) -> None:
        """SIGKILL one replica of the service (the other keeps serving), and start it again."""
        replica = random.randrange(len(self.system.processes[name]))
        self.system.processes[name][replica].kill()
        self.count(f"kills.{name}")
        self.note(f"SIGKILL {name} replica {replica}")
        time.sleep(random.uniform(0.2, 1.5))
        self.start_service(name, replica)

    def start_service(self, name: str, replica: int) -> None:
        for _attempt in range(5):  # readiness needs the database, which may be coming back
            try:
                self.system.start(name, replica=replica)
                return
            except RuntimeError:
                self.system.processes[name][replica].kill()
                time.sleep(2)
        raise AssertionError(f"{name} does not come back")

    def restart_kafka(self) -> None:
        self.kafka.kill()
        self.count("kills.kafka")
        self.note("SIGKILL every Kafka broker")
        time.sleep(2)
        self.kafka.up()
        self.note("Kafka is back")

    def kill_leading_broker(self) -> None:
        """SIGKILL the broker leading the most partitions of the stage topics; the others elect new
        leaders from the in-sync replicas, and writes go on (two of three acknowledge)."""
        node_id = asyncio.run(busiest_leader(self.system.env))
        node = self.kafka.node(node_id)
        node.kill()
        self.count("kills.kafka_leader")
        self.note(f"SIGKILL Kafka broker {node_id}, leader of the most partitions")
        time.sleep(random.uniform(3, 8))
        node.launch()
        node.wait_listening()
        self.note(f"Kafka broker {node_id} is back")

    def lease(self, name: str) -> tuple[str, int] | None:
        row = self.stack.postgres.psql(f"SELECT holder || '|' || epoch FROM {name}.relay_lease LIMIT 1", database=self.database)
        if not row:
            return None
        holder, epoch = row.rsplit("|", 1)
        return holder, int(epoch)

    def freeze_relay_holder(self, name: str) -> None:
        """SIGSTOP the replica holding the service's relay lease for longer than the lease, then
        SIGCONT: another replica must take over once the lease runs out, and the frozen one, on
        waking, must not publish alongside it (fencing). Records how long the relay had no leader."""
        lease = self.lease(name)
        holder = next(
            (p for p in self.system.processes[name] if lease and p.process and p.alive() and f":{p.process.pid}:" in lease[0]),
            None,
        )
        if lease is None or holder is None or holder.process is None:
            self.note(f"no live holder of {name}'s relay lease to freeze")
            return
        seconds = float(self.system.env.get("RELAY_LEASE_SECONDS", "10"))
        pid = holder.process.pid
        os.kill(pid, signal.SIGSTOP)
        frozen_at = time.monotonic()
        self.count("freezes")
        self.note(f"SIGSTOP {name} replica {holder.replica} (relay holder, epoch {lease[1]})")
        gap: float | None = None
        try:
            while time.monotonic() - frozen_at < seconds * 4:
                now = self.lease(name)
                if now is not None and now[1] > lease[1]:
                    gap = time.monotonic() - frozen_at
                    break
                time.sleep(0.2)
            time.sleep(max(0.0, seconds + 2 - (time.monotonic() - frozen_at)))
        finally:
            os.kill(pid, signal.SIGCONT)
        took = f"{gap:.1f}s" if gap is not None else f"more than {seconds * 4:.0f}s"
        self.relay_gaps.append(f"{name}: {took} (lease {seconds:.0f}s)")
        self.note(
            f"SIGCONT {name} replica {holder.replica} after {time.monotonic() - frozen_at:.1f}s; another took the relay after {took}"
        )
        assert gap is not None, f"nobody took over {name}'s relay from a frozen holder"

    def restart_postgres(self) -> None:
        self.stack.postgres.kill()
        self.count("kills.postgres")
        self.note("SIGKILL PostgreSQL")
        deadline = time.monotonic() + 60
        while True:  # its backends notice the postmaster's death and leave; then it can start again
            try:
                time.sleep(2)
                OwnPostgres(self.stack.profile).up()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
        self.note("PostgreSQL is back")

    def chaos(self, plan: list[str], gap_seconds: float) -> None:
        """Each fault after its share of the dossiers has been filed (and at least a gap after the
        last one), so faults fall all along the filing, however fast the machine files."""
        for n, fault in enumerate(plan, start=1):
            if self.stop.wait(gap_seconds * random.uniform(0.6, 1.4)):
                return
            while self.stats["submitted"] < self.total * n / (len(plan) + 1) and not self.submitted.is_set() and not self.errors:
                if self.stop.wait(0.5):
                    return
            if fault == "kafka":
                self.restart_kafka()
            elif fault == "kafka-leader":
                self.kill_leading_broker()
            elif fault.startswith("freeze-"):
                self.freeze_relay_holder(fault.removeprefix("freeze-"))
            elif fault == "postgres":
                self.restart_postgres()
            else:
                self.restart_service(fault)
            self.faults_done += 1
        self.note("chaos plan done")

    def report_progress(self, faults: int, every_seconds: float = 30) -> None:
        """A line every half minute for whoever watches a long run: filed, settled, faults, time left."""
        start = time.monotonic()
        while not self.stop.wait(every_seconds):
            try:
                settled = self.finished()
            except (AssertionError, Stopped):
                continue
            elapsed = time.monotonic() - start
            left = f", about {(self.total - settled) * elapsed / settled / 60:.0f} min left" if settled else ""
            print(
                f"[chaos] {time.strftime('%H:%M:%S')} {elapsed / 60:.1f} min in: filed {self.stats['submitted']}/{self.total}, "
                f"settled {settled}/{self.total}, faults {self.faults_done}/{faults}{left}",
                flush=True,
            )


def chaos_plan(kills_per_service: int = 3) -> list[str]:
    """Every service SIGKILLed `kills_per_service` times (one replica at a time), each relay's
    holder frozen once, the broker leading the most partitions killed twice, every broker and the
    database once, interleaved."""
    services = ["intake", "routing", "deadline", "notify"]
    plan: list[str] = []
    for round_ in range(kills_per_service):
        order = services[round_:] + services[:round_]
        plan += order
        if round_ == 0:
            plan += ["kafka-leader", "freeze-intake", "freeze-notify"]
        if round_ == 1:
            plan += ["postgres", "freeze-routing", "kafka"]
        if round_ == 2:
            plan += ["kafka-leader", "freeze-deadline"]
    return plan


async def busiest_leader(env: dict[str, str]) -> int:
    """The broker leading the most partitions of the stage topics."""
    from services.events.topics import SERVICES, stage_topic
    from services.kafka import create_admin
    from services.settings import KafkaAccess

    admin = create_admin(KafkaAccess(**{k: v for k, v in env.items() if k.startswith("KAFKA_")}))
    await admin.start()
    try:
        topics = await admin.describe_topics([stage_topic(env["TOPIC_PREFIX"], s) for s in SERVICES])
    finally:
        await admin.close()
    leaders = Counter(p["leader"] for t in topics for p in t["partitions"] if p["leader"] >= 0)
    return leaders.most_common(1)[0][0]
