"""An in-memory `DeadlineRepository`, for unit tests of deadline's use cases and event handlers
without a database or Kafka; the outbox and the parking are the kernel's fakes."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import pytest

from deadline.application.ports import DeadlineWork, EventWork, Row
from deadline.domain.clock import ClockRules, parse_thresholds
from deadline.domain.report import Bucket, Dimension, ReportRow
from deadline.domain.tracking import LIVE, DeadlineState
from services.calendar import WorkingCalendar
from services.testing import FakeUnitOfWork, MemoryAudit, MemoryParking, RecordedEvents

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

    async def get_dossier(self, dossier_id: UUID) -> Row | None:
        return await self.lock_dossier(dossier_id)

    async def deadlines_of(self, dossier_id: UUID) -> list[Row]:
        rows = [dict(r) for k, r in self.deadlines.items() if k[0] == dossier_id]
        return sorted(rows, key=lambda r: (r["started_at"], r["step_id"]))

    async def pauses_of(self, dossier_id: UUID) -> list[Row]:
        return [dict(p) for p in self.pauses if p["dossier_id"] == dossier_id]

    async def apologies_of(self, dossier_id: UUID) -> list[Row]:
        return [dict(a) for a in self.apologies if a["dossier_id"] == dossier_id]

    async def on_time_report(self, start: datetime, end: datetime, by: Dimension) -> tuple[list[ReportRow], ReportRow]:
        return [], ReportRow.total_of([])  # the report is an aggregate in PostgreSQL: tested over the real database

    async def on_time_series(self, start: datetime, end: datetime, bucket: Bucket) -> list[dict[str, Any]]:
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
