"""Deadline's test fixtures. For its use cases and event handlers: an in-memory
`DeadlineRepository` (no database, no Kafka; the outbox and the parking are the kernel's fakes).
Over the real stack: deadline as real processes (two replicas) on a database and topics of their
own, with what intake and routing would publish, and calls made with the test officers' tokens."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Collection, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from conftest import Identities, kafka_options, own_database, owner_url
from deadline.application.ports import DeadlineWork, EventWork, Row
from deadline.domain.clock import ClockRules, parse_thresholds
from deadline.domain.report import Bucket, Dimension, Lateness, Period, ReportRow
from deadline.domain.tracking import LIVE, DeadlineState
from infra.stack import Stack
from services.calendar import VN_TZ, WorkingCalendar
from services.events import Event
from services.events.schemas import DossierReceived, RouteStep
from services.events.topics import stage_topic
from services.identity import Scope
from services.migrations import upgrade
from services.testing import FakeUnitOfWork, MemoryAudit, MemoryParking, RecordedEvents
from tests.conftest import System, eventually

ROOT = Path(__file__).resolve().parents[2]

Key = tuple[UUID, str, str]


class MemoryDeadlines:
    def __init__(self) -> None:
        self.dossiers: dict[UUID, Row] = {}
        self.deadlines: dict[Key, Row] = {}
        self.pauses: list[Row] = []
        self.timers: list[Row] = []
        self.apologies: list[Row] = []

    # the dossier and its due times

    async def state(self, dossier_id: UUID) -> str | None:
        row = self.dossiers.get(dossier_id)
        return row["state"] if row else None

    async def add_dossier(self, values: Mapping[str, Any]) -> bool:
        if values["dossier_id"] in self.dossiers:
            return False
        self.dossiers[values["dossier_id"]] = {"paused_status": None, "ended_at": None, "outcome": None, **values}
        return True

    async def add_deadline(self, values: Mapping[str, Any]) -> bool:
        key = (values["dossier_id"], values["scope"], values["step_id"])
        if key in self.deadlines:
            return False
        defaults = {"remaining_hours": None, "completed_at": None, "outcome": None, "overdue_at": None}
        self.deadlines[key] = {**defaults, **values}
        return True

    async def lock_dossier(self, dossier_id: UUID) -> Row | None:
        row = self.dossiers.get(dossier_id)
        return dict(row) if row else None

    async def lock_deadline(self, dossier_id: UUID, scope: str, step_id: str) -> Row | None:
        row = self.deadlines.get((dossier_id, scope, step_id))
        return dict(row) if row else None

    async def lock_deadlines(self, dossier_id: UUID, states: Collection[str]) -> list[Row]:
        return [dict(r) for k, r in self.deadlines.items() if k[0] == dossier_id and r["state"] in states]

    async def update_dossier(self, dossier_id: UUID, changes: Mapping[str, Any]) -> None:
        self.dossiers[dossier_id].update(changes)

    async def update_deadline(self, dossier_id: UUID, scope: str, step_id: str, changes: Mapping[str, Any]) -> None:
        self.deadlines[(dossier_id, scope, step_id)].update(changes)

    async def transfer_step(self, dossier_id: UUID, step_id: str, agency_code: str, agency_name: str) -> None:
        row = self.deadlines.get((dossier_id, "step", step_id))
        if row and row["state"] in LIVE:
            row.update(agency_code=agency_code, agency_name=agency_name)

    async def cancel_deadlines(self, dossier_id: UUID, at: datetime) -> None:
        for key, row in self.deadlines.items():
            if key[0] == dossier_id and row["state"] in LIVE:
                row.update(state=DeadlineState.CANCELLED, completed_at=at)

    # pauses

    async def add_pause(self, values: Mapping[str, Any]) -> None:
        self.pauses.append({"id": len(self.pauses) + 1, "resumed_at": None, "new_appointment_at": None, **values})

    async def open_pause(self, dossier_id: UUID) -> Row | None:
        open_ = [p for p in self.pauses if p["dossier_id"] == dossier_id and p["resumed_at"] is None]
        if not open_:
            return None
        dossier = self.dossiers[dossier_id]
        return {**open_[-1], "dossier_state": dossier["state"], "paused_status": dossier["paused_status"]}

    async def end_pause(self, pause_id: int, resumed_at: datetime, new_appointment_at: datetime) -> None:
        self.pauses[pause_id - 1].update(resumed_at=resumed_at, new_appointment_at=new_appointment_at)

    async def end_open_pauses(self, dossier_id: UUID, at: datetime) -> None:
        for pause in self.pauses:
            if pause["dossier_id"] == dossier_id and pause["resumed_at"] is None:
                pause["resumed_at"] = at

    # timers

    async def arm(self, timers: Sequence[Mapping[str, Any]]) -> None:
        armed = {(t["dossier_id"], t["scope"], t["step_id"], t["kind"], t["due_at"]) for t in self.timers}
        for timer in timers:
            if (timer["dossier_id"], timer["scope"], timer["step_id"], timer["kind"], timer["due_at"]) not in armed:
                self.timers.append({"id": len(self.timers) + 1, "fired_at": None, **timer})

    async def disarm(self, dossier_id: UUID, scope: str | None = None, step_id: str | None = None) -> None:
        def dropped(t: Row) -> bool:
            mine = t["dossier_id"] == dossier_id and (scope is None or (t["scope"], t["step_id"]) == (scope, step_id or ""))
            return mine and t["fire_at"] is not None

        self.timers = [t for t in self.timers if not dropped(t)]

    async def claim_due_timers(self, now: datetime, limit: int) -> list[Row]:
        due = sorted((t for t in self.timers if t["fire_at"] is not None and t["fire_at"] <= now), key=lambda t: t["fire_at"])
        claimed = []
        for timer in due[:limit]:
            row = self.deadlines[(timer["dossier_id"], timer["scope"], timer["step_id"])]
            claimed.append(
                {
                    **timer,
                    "state": row["state"],
                    "current_due_at": row["due_at"],
                    "agency_code": row["agency_code"],
                    "agency_name": row["agency_name"],
                }
            )
        return claimed

    async def mark_overdue(self, keys: Sequence[Key], at: datetime) -> None:
        for key in keys:
            self.deadlines[key]["overdue_at"] = at

    async def mark_fired(self, timer_ids: Sequence[int], at: datetime) -> None:
        for timer in self.timers:
            if timer["id"] in timer_ids:
                timer.update(fire_at=None, fired_at=at)

    async def steps(self, dossier_id: UUID) -> list[Row]:
        return [dict(r) for k, r in self.deadlines.items() if k[0] == dossier_id and k[1] == "step"]

    async def add_apology(self, values: Mapping[str, Any]) -> None:
        self.apologies.append({"id": len(self.apologies) + 1, **values})

    # reading

    def _in_scope(self, dossier_id: UUID, scope: Scope) -> bool:
        dossier = self.dossiers.get(dossier_id)
        if dossier is None:
            return False
        agencies = tuple(r["agency_code"] for k, r in self.deadlines.items() if k[0] == dossier_id and k[1] == "step")
        return scope.covers_any(units=(dossier["receiving_unit"],), agencies=agencies)

    async def get_dossier(self, dossier_id: UUID, scope: Scope) -> Row | None:
        return await self.lock_dossier(dossier_id) if self._in_scope(dossier_id, scope) else None

    async def deadlines_of(self, dossier_id: UUID, scope: Scope) -> list[Row]:
        if not self._in_scope(dossier_id, scope):
            return []
        rows = [dict(r) for k, r in self.deadlines.items() if k[0] == dossier_id]
        return sorted(rows, key=lambda r: (r["started_at"], r["step_id"]))

    async def pauses_of(self, dossier_id: UUID) -> list[Row]:
        return [dict(p) for p in self.pauses if p["dossier_id"] == dossier_id]

    async def apologies_of(self, dossier_id: UUID) -> list[Row]:
        return [dict(a) for a in self.apologies if a["dossier_id"] == dossier_id]

    async def on_time_report(
        self, period: Period, by: Dimension, units: Sequence[str] | None
    ) -> tuple[list[ReportRow], ReportRow]:
        return [], ReportRow.total_of([])  # the report is an aggregate in PostgreSQL: tested over the real database

    async def items_of_row(
        self, period: Period, by: Dimension, key: str, lateness: Lateness, units: Sequence[str] | None, limit: int
    ) -> list[Row]:
        return []

    async def on_time_series(self, period: Period, bucket: Bucket, units: Sequence[str] | None) -> list[dict[str, Any]]:
        return []


class MemoryDeadline(NamedTuple):
    uow: FakeUnitOfWork[DeadlineWork]
    work: EventWork  # what the consumer's handlers are given: the same repository, outbox and parking
    deadlines: MemoryDeadlines
    events: RecordedEvents
    parking: MemoryParking
    rules: ClockRules


@pytest.fixture
def memory() -> MemoryDeadline:
    deadlines, events, parking = MemoryDeadlines(), RecordedEvents(), MemoryParking()
    rules = ClockRules(WorkingCalendar(), parse_thresholds("1-working-day,80-percent"))
    work = EventWork(deadlines, events, parking, MemoryAudit(), rules)
    return MemoryDeadline(FakeUnitOfWork[DeadlineWork](work), work, deadlines, events, parking, rules)


# ---------------------------------------------------------------- over the real stack


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


def new_id() -> str:
    return str(uuid.uuid4())


class Deadline:
    """Deadline's replicas, what intake and routing would publish, and its API as a test officer
    (`all`, the province administrator and operator, unless another is named)."""

    def __init__(self, system: System, prefix: str) -> None:
        self.system = system
        self.prefix = prefix
        self.kafka = kafka_options(system.env)
        self.producer: AIOKafkaProducer | None = None

    def url(self, replica: int = 0) -> str:
        return self.system.processes["deadline"][replica].url

    def call(self, method: str, path: str, who: str | None = "all", replica: int = 0, **kwargs: Any) -> httpx.Response:
        """A request as the test officer `who` (None: without a token)."""
        auth = self.system.identities.auth(who) if who is not None else None
        return httpx.request(method, f"{self.url(replica)}{path}", auth=auth, timeout=60, **kwargs)

    async def publish(self, source: str, dossier_id: str, event: Event) -> None:
        assert self.producer is not None
        envelope = event.envelope(dossier_id=dossier_id, producer=source)
        await self.producer.send_and_wait(stage_topic(self.prefix, source), envelope.to_bytes(), key=dossier_id.encode())

    async def receive(
        self,
        dossier_id: str,
        at: datetime,
        *,
        budget: float = 24,
        rule: str = "keep_elapsed",
        procedure: str = "1.001193",
        field: str = "HT",
        channel: int = 1,
        online: bool = False,
        unit: str = "H30.1",
        route: list[RouteStep] | None = None,
        starts: datetime | None = None,
    ) -> datetime:
        """A dossier.received whose appointment is `budget` working hours after `starts` (or `at`)."""
        calendar = WorkingCalendar()
        begin = starts or calendar.clock_start(at)
        appointment = calendar.add_working_hours(begin, budget)
        await self.publish(
            "intake",
            dossier_id,
            DossierReceived(
                dossier_code=f"{unit}-{at:%y%m%d}-{dossier_id[:4]}",
                procedure_code=procedure,
                procedure_name="Thủ tục thử",
                field_code=field,
                catalogue_version="1",
                receiving_unit=unit,
                channel=channel,
                fully_online=online,  # type: ignore[arg-type]
                received_at=at,
                clock_starts_at=begin,
                appointment_at=appointment,
                budget_hours=budget,
                resume_rule=rule,  # type: ignore[arg-type]
                route=route or [RouteStep(step_id="s1", agency_code="UBX", agency_name="UBND xã", budget_hours=budget)],
                applicant_name="Trần Văn A",
            ),
        )
        return appointment

    def deadlines(self, dossier_id: str, n: int) -> list[dict[str, Any]]:
        return eventually(
            lambda: (d := self.system.get("deadline", f"/dossiers/{dossier_id}/deadlines")) and len(d) >= n and d,
            what=f"{n} deadlines",
        )

    def clock(self, dossier_id: str, predicate: Any = bool) -> dict[str, Any]:
        return eventually(
            lambda: (c := self.system.get("deadline", f"/dossiers/{dossier_id}/clock")) and predicate(c) and c, what="the clock"
        )

    def tick(self, at: datetime, replica: int = 0) -> dict[str, Any]:
        response = self.call("POST", "/admin/tick", "operator", replica, json={"at": at.isoformat()})
        assert response.status_code == 200, response.text
        return response.json()

    async def events(self, dossier_ids: set[str], settle: float = 3.0) -> list[dict[str, Any]]:
        """Every event deadline published about these dossiers, read from the start of its topic
        until nothing new has come for `settle` seconds. The relay delivers at least once (a relay
        killed between the broker's ack and marking its rows sends them again, under the same event
        id, and consumers' inboxes drop the repeat), so an event counts once per event id."""
        consumer = AIOKafkaConsumer(
            stage_topic(self.prefix, "deadline"),
            **self.kafka,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        seen: list[dict[str, Any]] = []
        ids: set[str] = set()
        try:
            quiet_since = asyncio.get_running_loop().time()
            while asyncio.get_running_loop().time() - quiet_since < settle:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        message = json.loads(record.value)
                        if message["dossier_id"] in dossier_ids and message["event_id"] not in ids:
                            ids.add(message["event_id"])
                            seen.append(message)
                        quiet_since = asyncio.get_running_loop().time()
        finally:
            await consumer.stop()
        return seen


@pytest.fixture(scope="module")
def deadline_env(stack: Stack, session_id: str, service_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """Its own database and topic prefix, so the timers a test module fires touch nothing else."""
    suffix = uuid.uuid4().hex[:6]
    with own_database(stack, f"motcua_t_{session_id}_dl{suffix}") as url:
        env = {
            **service_env,
            "DATABASE_URL": url,
            "TOPIC_PREFIX": f"t{session_id}dl{suffix}",
            "DEADLINE_TICK_INTERVAL_MS": "1000",
        }
        stack.kafka.provision(env["TOPIC_PREFIX"])
        upgrade(ROOT / "deadline-service" / "migrations", owner_url(env, "deadline"))
        yield env


@pytest.fixture(scope="module")
async def deadline(
    deadline_env: dict[str, str], identities: Identities, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Deadline]:
    system = System(deadline_env, tmp_path_factory.mktemp("deadline-logs"), identities)
    kit = Deadline(system, deadline_env["TOPIC_PREFIX"])
    try:
        await asyncio.to_thread(system.start, "deadline")
        await asyncio.to_thread(system.start, "deadline")  # a second replica, same consumer group
        kit.producer = AIOKafkaProducer(**kit.kafka, acks="all", enable_idempotence=True)
        await kit.producer.start()
        yield kit
    finally:
        if kit.producer is not None:
            await kit.producer.stop()
        system.stop_all()
