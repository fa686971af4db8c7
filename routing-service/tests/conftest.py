"""An in-memory `RouteRepository`, for unit tests of routing's use cases without a database or
Kafka, and a unit of work over it that undoes what a failed block wrote, so that "nothing changed"
is checked for real."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

import pytest

from routing.application.ports import AuditCheck, Partners, Queue, RoutingWork
from routing.domain.agencies import Agencies, Agency
from routing.domain.steps import OPEN
from services.idempotency import KeyReused
from services.identity import EVERYTHING, Scope
from services.testing import FakeUnitOfWork, MemoryAudit, MemoryParking, RecordedEvents

AGENCIES = Agencies(
    [
        Agency("UBND-XA", "UBND xã (hộ tịch)", "ubnd-xa"),
        Agency("CA-XA", "Công an xã (cư trú)", "ca-xa", lgsp_endpoint="http://lgsp.test/ca-xa/steps"),
        Agency("BHXH", "Bảo hiểm xã hội", "bhxh"),
        Agency("BHXH-TINH", "Bảo hiểm xã hội tỉnh", "bhxh-tinh"),
    ]
)


class MemoryRoutes:
    def __init__(self) -> None:
        self.dossiers: dict[UUID, dict[str, Any]] = {}
        self.route: dict[tuple[UUID, str], dict[str, Any]] = {}
        self.sheet: list[dict[str, Any]] = []  # the control sheet's lines (handovers)
        self.queues: dict[Queue, list[dict[str, Any]]] = {"deliveries": [], "portal_pushes": []}
        self.log: list[dict[str, Any]] = []  # audit entries
        self.nonces: dict[tuple[str, str], datetime] = {}

    # ------------------------------------------------------------ a dossier's route

    async def add_dossier(self, values: Mapping[str, Any]) -> None:
        self.dossiers[values["dossier_id"]] = dict(values)

    async def add_steps(self, rows: Sequence[Mapping[str, Any]]) -> None:
        defaults = {
            "assigned_at": None,
            "completed_at": None,
            "officer": None,
            "officer_subject": None,
            "result_documents": [],
            "note": None,
        }
        for row in rows:
            self.route[(row["dossier_id"], row["step_id"])] = {**defaults, **row}

    async def lock(self, dossier_id: UUID) -> dict[str, Any] | None:
        row = self.dossiers.get(dossier_id)
        return dict(row) if row else None

    async def steps(self, dossier_id: UUID) -> list[dict[str, Any]]:
        return sorted((dict(r) for (d, _), r in self.route.items() if d == dossier_id), key=lambda r: r["position"])

    async def lock_step(self, dossier_id: UUID, step_id: str, scope: Scope = EVERYTHING) -> dict[str, Any] | None:
        row = self.route.get((dossier_id, step_id))
        return dict(row) if row and scope.covers_agency(row["agency_code"]) else None

    async def update_dossier(self, dossier_id: UUID, changes: Mapping[str, Any]) -> None:
        self.dossiers[dossier_id].update(changes)

    async def update_step(self, dossier_id: UUID, step_id: str, changes: Mapping[str, Any]) -> None:
        self.route[(dossier_id, step_id)].update(changes)

    async def cancel_open_steps(self, dossier_id: UUID, at: datetime, *, except_step: str | None = None) -> None:
        for (d, step_id), row in self.route.items():
            if d == dossier_id and row["state"] in OPEN | {"waiting"} and step_id != except_step:
                row.update(state="cancelled", updated_at=at)

    async def add_handover(self, values: Mapping[str, Any]) -> None:
        self.sheet.append({**values, "id": len(self.sheet) + 1})

    def _queue(self, queue: Queue, values: Mapping[str, Any]) -> None:
        rows = self.queues[queue]
        now = datetime.now(UTC)
        rows.append(
            {"state": "pending", "attempts": 0, "next_attempt_at": now, "last_error": None, **values, "id": len(rows) + 1}
        )

    async def add_delivery(self, values: Mapping[str, Any]) -> None:
        self._queue("deliveries", {"response": None, "delivered_at": None, **values})

    async def add_portal_push(self, values: Mapping[str, Any]) -> None:
        self._queue("portal_pushes", {"pushed_at": None, **values})

    async def audit(self, kind: str, actor: str, *, dossier_id: Any = None, step_id: str | None = None, **detail: Any) -> None:
        entry = {
            "kind": kind,
            "actor": actor,
            "dossier_id": str(dossier_id) if dossier_id else None,
            "step_id": step_id,
            "detail": {k: v for k, v in detail.items() if v is not None},
        }
        self.log.append(entry)

    async def claim_nonce(self, client_id: str, nonce: str) -> None:
        if (client_id, nonce) in self.nonces:
            raise KeyReused()
        self.nonces[(client_id, nonce)] = datetime.now(UTC)

    # ------------------------------------------------------------ reading

    async def dossier(self, dossier_id: UUID, scope: Scope) -> dict[str, Any] | None:
        row = await self.lock(dossier_id)
        if row is None:
            return None
        agencies = tuple(r["agency_code"] for (d, _), r in self.route.items() if d == dossier_id)
        return row if scope.covers_any(units=(row.get("receiving_unit"),), agencies=agencies) else None

    async def handovers(self, dossier_id: UUID) -> list[dict[str, Any]]:
        return [dict(h) for h in self.sheet if h["dossier_id"] == dossier_id]

    def _with_dossier(self, row: Mapping[str, Any]) -> dict[str, Any]:
        dossier = self.dossiers[row["dossier_id"]]
        return {**row, **{k: dossier[k] for k in ("dossier_code", "procedure_code", "procedure_name")}}

    async def agency_steps(
        self,
        scope: Scope,
        states: Sequence[str],
        *,
        agency_code: str | None,
        procedure_code: str | None,
        dossier_code: str | None,
    ) -> list[dict[str, Any]]:
        rows = [
            self._with_dossier(r) for r in self.route.values() if scope.covers_agency(r["agency_code"]) and r["state"] in states
        ]
        return [
            r
            for r in rows
            if (not agency_code or r["agency_code"] == agency_code)
            and (not procedure_code or r["procedure_code"] == procedure_code)
            and (not dossier_code or r["dossier_code"] == dossier_code)
        ]

    async def agency_step(self, dossier_id: UUID, step_id: str, scope: Scope) -> dict[str, Any] | None:
        row = self.route.get((dossier_id, step_id))
        return self._with_dossier(row) if row and scope.covers_agency(row["agency_code"]) else None

    async def deliveries(self, *, state: str | None, undelivered: bool, limit: int) -> list[dict[str, Any]]:
        rows = self.queues["deliveries"]
        if undelivered:
            rows = [r for r in rows if r["state"] != "delivered"]
        elif state:
            rows = [r for r in rows if r["state"] == state]
        return [dict(r) for r in rows[:limit]]

    async def portal_pushes(self, *, state: str | None, dossier_id: UUID | None, limit: int) -> list[dict[str, Any]]:
        rows = [
            r
            for r in self.queues["portal_pushes"]
            if (not state or r["state"] == state) and (not dossier_id or r["dossier_id"] == dossier_id)
        ]
        return [dict(r) for r in rows[:limit]]

    async def audit_records(self, *, dossier_id: UUID | None, after_id: int, limit: int) -> list[dict[str, Any]]:
        return []  # the hash chain is the database's; proven over the real stack

    async def verify_audit(self) -> AuditCheck:
        return AuditCheck(records=len(self.log), intact=True, first_broken_id=None)

    # ------------------------------------------------------------ the outbound queues

    async def claim(self, queue: Queue, limit: int, lease_seconds: float) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        pending = [r for r in self.queues[queue] if r["state"] == "pending"]
        due = [r for r in pending if r["next_attempt_at"] <= now]
        if queue == "portal_pushes":  # a dossier's pushes in order
            due = [r for r in due if not any(p["dossier_id"] == r["dossier_id"] and p["id"] < r["id"] for p in pending)]
        claimed = due[:limit]
        for row in claimed:
            row["next_attempt_at"] = now + timedelta(seconds=lease_seconds)
        return [dict(r) for r in claimed]

    def _row(self, queue: Queue, row_id: int) -> dict[str, Any]:
        return self.queues[queue][row_id - 1]

    async def delivered(self, delivery_id: int, *, attempts: int, answer: Mapping[str, Any], at: datetime) -> None:
        self._row("deliveries", delivery_id).update(
            state="delivered", attempts=attempts, delivered_at=at, response=dict(answer), last_error=None
        )

    async def pushed(self, push_id: int, *, attempts: int, at: datetime) -> None:
        self._row("portal_pushes", push_id).update(state="pushed", attempts=attempts, pushed_at=at, last_error=None)

    async def attempt_failed(
        self, queue: Queue, row_id: int, *, attempts: int, error: str, gave_up: bool, retry_at: datetime
    ) -> None:
        state = "failed" if gave_up else "pending"
        self._row(queue, row_id).update(attempts=attempts, last_error=error, state=state, next_attempt_at=retry_at)

    async def postpone(self, queue: Queue, row_id: int, until: datetime) -> None:
        self._row(queue, row_id)["next_attempt_at"] = until

    async def resend(self, delivery_id: int, at: datetime) -> dict[str, Any] | None:
        row = await self.delivery(delivery_id)
        if row is None or row["state"] == "delivered":
            return None
        self._row("deliveries", delivery_id).update(state="pending", attempts=0, next_attempt_at=at)
        return dict(self._row("deliveries", delivery_id))

    async def delivery(self, delivery_id: int) -> dict[str, Any] | None:
        rows = self.queues["deliveries"]
        return dict(rows[delivery_id - 1]) if 0 < delivery_id <= len(rows) else None

    async def reconcile_candidates(self, since: datetime) -> list[dict[str, Any]]:
        pending = {r["dossier_id"] for r in self.queues["portal_pushes"] if r["state"] == "pending"}
        return [dict(d) for d in self.dossiers.values() if d["updated_at"] >= since and d["dossier_id"] not in pending]

    async def purge_nonces(self, before: datetime) -> int:
        old = [key for key, seen in self.nonces.items() if seen < before]
        for key in old:
            del self.nonces[key]
        return len(old)


class MemoryUnitOfWork(FakeUnitOfWork[RoutingWork]):
    """The kernel's fake unit of work, which also undoes what a rolled-back block wrote to the
    memory repository and the recorded events, as a database transaction would."""

    def __init__(self, unit: RoutingWork, routes: MemoryRoutes, events: RecordedEvents, parking: MemoryParking) -> None:
        super().__init__(unit)
        self.routes = routes
        self.recorded = events
        self.parking = parking

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[RoutingWork]:
        saved = copy.deepcopy(self.routes.__dict__), list(self.recorded.envelopes), list(self.recorded.events)
        parked = copy.deepcopy(self.parking.parked)
        try:
            async with super().__call__() as unit:
                yield unit
        except BaseException:
            self.routes.__dict__.update(saved[0])
            self.recorded.envelopes[:], self.recorded.events[:] = saved[1], saved[2]
            self.parking.parked = parked
            raise


class MemoryRouting(NamedTuple):
    uow: MemoryUnitOfWork
    routes: MemoryRoutes
    events: RecordedEvents
    parking: MemoryParking


@pytest.fixture
def memory() -> MemoryRouting:
    """Routing over memory, with the national portal kept in step."""
    routes, events, parking = MemoryRoutes(), RecordedEvents(), MemoryParking()
    work = RoutingWork(routes, events, Partners(AGENCIES, portal=True), MemoryAudit(), parking)
    return MemoryRouting(MemoryUnitOfWork(work, routes, events, parking), routes, events, parking)
