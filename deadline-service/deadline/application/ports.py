"""What deadline's use cases work with: the repository of tracked dossiers, due times, pauses,
timers and apologies (over PostgreSQL in `deadline.adapters.repository`, in memory in the tests),
and the work of one transaction: that repository, the outbox and the parking of early events.

Rows come back as dicts keyed by column name (`deadline.adapters.tables`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from deadline.domain.clock import ClockRules
from deadline.domain.report import Bucket, Dimension, Lateness, Period, ReportRow
from services.audit import AuditTrail
from services.identity import Scope
from services.messaging.outbox import EventSink
from services.messaging.parking import EventParking
from services.unit_of_work import UnitOfWork

Row = dict[str, Any]


class DeadlineRepository(Protocol):
    # The dossier and its due times, per event (locks are held until the transaction ends).
    async def state(self, dossier_id: UUID) -> str | None:
        """The dossier's `DossierState`; None before its receipt was read."""
        ...

    async def add_dossier(self, values: Mapping[str, Any]) -> bool:
        """False when the dossier is tracked already."""
        ...

    async def add_deadline(self, values: Mapping[str, Any]) -> bool:
        """False when this due time (dossier, scope, step) is tracked already."""
        ...

    async def lock_dossier(self, dossier_id: UUID) -> Row | None: ...
    async def lock_deadline(self, dossier_id: UUID, scope: str, step_id: str) -> Row | None: ...
    async def lock_deadlines(self, dossier_id: UUID, states: Collection[str]) -> list[Row]: ...
    async def update_dossier(self, dossier_id: UUID, changes: Mapping[str, Any]) -> None: ...
    async def update_deadline(self, dossier_id: UUID, scope: str, step_id: str, changes: Mapping[str, Any]) -> None: ...

    async def transfer_step(self, dossier_id: UUID, step_id: str, agency_code: str, agency_name: str) -> None:
        """The step's due time, if still live, now belongs to another agency."""
        ...

    async def cancel_deadlines(self, dossier_id: UUID, at: datetime) -> None:
        """Every live due time of the dossier is cancelled at `at`."""
        ...

    # Pauses.
    async def add_pause(self, values: Mapping[str, Any]) -> None: ...

    async def open_pause(self, dossier_id: UUID) -> Row | None:
        """The dossier's pause not resumed yet, with its `dossier_state` and `paused_status`."""
        ...

    async def end_pause(self, pause_id: int, resumed_at: datetime, new_appointment_at: datetime) -> None: ...
    async def end_open_pauses(self, dossier_id: UUID, at: datetime) -> None: ...

    # Timers.
    async def arm(self, timers: Sequence[Mapping[str, Any]]) -> None:
        """Add timers; one already armed for the same due time and kind is kept as it is."""
        ...

    async def disarm(self, dossier_id: UUID, scope: str | None = None, step_id: str | None = None) -> None:
        """Drop the timers not fired yet, of one due time or (no scope) of the whole dossier; the
        fired ones stay: they prove what was sent."""
        ...

    async def claim_due_timers(self, now: datetime, limit: int) -> list[Row]:
        """Timers due at `now`, oldest first, locked (skipping those another transaction holds),
        each with its due time's current `state`, `current_due_at`, `agency_code`, `agency_name`."""
        ...

    async def mark_overdue(self, keys: Sequence[tuple[UUID, str, str]], at: datetime) -> None: ...
    async def mark_fired(self, timer_ids: Sequence[int], at: datetime) -> None: ...
    async def steps(self, dossier_id: UUID) -> list[Row]: ...
    async def add_apology(self, values: Mapping[str, Any]) -> None: ...

    # Reading, within a caller's scope: a dossier is in it when received at one of the scope's
    # units or with a step at one of its agencies.
    async def get_dossier(self, dossier_id: UUID, scope: Scope) -> Row | None:
        """None when not tracked or out of `scope`."""
        ...

    async def deadlines_of(self, dossier_id: UUID, scope: Scope) -> list[Row]:
        """Empty when not tracked or out of `scope`."""
        ...

    async def pauses_of(self, dossier_id: UUID) -> list[Row]: ...
    async def apologies_of(self, dossier_id: UUID) -> list[Row]: ...

    # The report counts the dossiers received at `units` (None: every unit).
    async def on_time_report(
        self, period: Period, by: Dimension, units: Sequence[str] | None
    ) -> tuple[list[ReportRow], ReportRow]: ...

    async def items_of_row(
        self, period: Period, by: Dimension, key: str, lateness: Lateness, units: Sequence[str] | None, limit: int
    ) -> list[Row]:
        """The dossiers (by agency: steps) the row `key` counts as `lateness`, soonest due first, at
        most `limit`; each with `missed_steps` (step_id, agency_code, agency_name, due_at, completed_at)."""
        ...

    async def on_time_series(self, period: Period, bucket: Bucket, units: Sequence[str] | None) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class DeadlineWork:
    """What a use case works with inside one transaction."""

    deadlines: DeadlineRepository
    events: EventSink
    parking: EventParking
    audit: AuditTrail


@dataclass(frozen=True)
class EventWork(DeadlineWork):
    """What an event handler works with: the consumer's transaction, and the rules the clock runs by."""

    rules: ClockRules


DeadlineUnitOfWork = UnitOfWork[DeadlineWork]
