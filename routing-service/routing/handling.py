"""Routing's use cases: fixing a route, assigning ready steps, and every action an agency takes
on its step. Each runs inside the caller's transaction: state, handovers (control sheet, form 5),
audit record, outbound deliveries, portal pushes and the announcing events commit together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from routing.adapters import audit
from routing.adapters.agencies import Agencies
from routing.adapters.tables import deliveries, dossiers, handovers, portal_pushes, route_steps
from routing.domain.national import FINAL_PHASES, phase_from_steps, portal_record, status_code
from routing.domain.route import StepState, ready_steps, route_complete
from routing.domain.steps import OPEN, IllegalTransition, next_state, return_target
from routing.settings import RoutingSettings
from services.db import driver_connection, insert_row, insert_rows, update_row
from services.events import Envelope, Event
from services.events.schemas import (
    DossierReceived,
    DossierRefused,
    FeePaid,
    FeeRequested,
    HandlingResumed,
    HandlingStopped,
    RouteCompleted,
    StepAccepted,
    StepAssigned,
    StepCompleted,
    StepReturned,
    StepTransferred,
    SupplementRequested,
)
from services.runtime import Runtime


class StepNotFound(Exception):
    """No such step, or not the caller's: the two look the same from outside."""


class StepConflict(Exception):
    def __init__(self, message: str, state: str) -> None:
        super().__init__(message)
        self.state = state


class InvalidCommand(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@lru_cache(maxsize=4)
def _load_agencies(path: Path) -> Agencies:
    return Agencies.load(path)


def agencies_of(runtime: Runtime) -> Agencies:
    settings: RoutingSettings = runtime.settings  # type: ignore[assignment]
    return _load_agencies(Path(settings.agencies_file))


@dataclass(frozen=True)
class Command:
    """What an officer (or the agency's system) asks for; each action reads the fields it needs."""

    action: str
    officer: str
    note: str | None = None
    reason: str | None = None
    result_documents: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    to_step_id: str | None = None
    to_agency_code: str | None = None
    amount_vnd: int | None = None
    description: str | None = None
    receipt_ref: str | None = None


class Routing:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @property
    def settings(self) -> RoutingSettings:
        return self.runtime.settings  # type: ignore[return-value]

    # ------------------------------------------------------------ events

    async def _emit(self, session: AsyncSession, event: Event, dossier: Mapping[str, Any], cause: Envelope | None) -> None:
        await self.runtime.outbox.emit(
            session,
            event,
            dossier_id=str(dossier["dossier_id"]),
            causation=cause,
            correlation_id=None if cause else dossier["correlation_id"],
        )

    async def _handover(
        self,
        session: AsyncSession,
        dossier_id: UUID,
        step_id: str,
        src: str,
        dst: str,
        at: datetime,
        actor: str,
        action: str,
        note: str | None = None,
    ) -> None:
        await insert_row(
            session,
            handovers,
            {
                "dossier_id": dossier_id,
                "step_id": step_id,
                "from_party": src,
                "to_party": dst,
                "at": at,
                "actor": actor,
                "action": action,
                "note": note,
            },
        )

    # ------------------------------------------------------------ route

    async def fix_route(self, session: AsyncSession, envelope: Envelope) -> None:
        """Hồ sơ đã tiếp nhận: record the route fixed from the catalogue, and assign its first steps."""
        event = DossierReceived.model_validate(envelope.payload)
        dossier_id = UUID(envelope.dossier_id)
        at = envelope.occurred_at
        await insert_row(
            session,
            dossiers,
            dict(
                dossier_id=dossier_id,
                dossier_code=event.dossier_code,
                procedure_code=event.procedure_code,
                procedure_name=event.procedure_name,
                field_code=event.field_code,
                channel=event.channel,
                applicant_name=event.applicant.name,
                received_at=event.received_at,
                appointment_at=event.appointment_at,
                phase="received",
                correlation_id=envelope.correlation_id,
                updated_at=at,
            ),
        )
        await insert_rows(
            session,
            route_steps,
            [
                {
                    "dossier_id": dossier_id,
                    "step_id": step.step_id,
                    "position": position,
                    "agency_code": step.agency_code,
                    "agency_name": step.agency_name,
                    "department": step.department,
                    "budget_hours": step.budget_hours,
                    "after": step.after,
                    "state": "waiting",
                    "updated_at": at,
                }
                for position, step in enumerate(event.route)
            ],
        )
        dossier = await self.lock_dossier(session, dossier_id)
        assert dossier is not None
        await self.queue_portal_update(session, dossier, "received", at)
        await self.assign_ready_steps(session, dossier, envelope, from_party=f"Bộ phận một cửa {event.receiving_unit}", at=at)
        await self.refresh_phase(session, dossier, at)

    async def lock_dossier(self, session: AsyncSession, dossier_id: UUID) -> Mapping[str, Any] | None:
        """Every change to one dossier's route runs under this row lock, so parallel branches finishing together still see each other."""
        return await (await driver_connection(session)).fetchrow(
            "SELECT * FROM routing.dossiers WHERE dossier_id = $1 FOR UPDATE", dossier_id
        )

    async def steps_of(self, session: AsyncSession, dossier_id: UUID) -> list[Mapping[str, Any]]:
        return await (await driver_connection(session)).fetch(
            "SELECT * FROM routing.route_steps WHERE dossier_id = $1 ORDER BY position", dossier_id
        )

    async def assign_ready_steps(
        self, session: AsyncSession, dossier: Mapping[str, Any], cause: Envelope | None, from_party: str, at: datetime
    ) -> list[str]:
        dossier_id = dossier["dossier_id"]
        rows = await self.steps_of(session, dossier_id)
        ready = set(ready_steps(StepState(r["step_id"], tuple(r["after"]), r["state"]) for r in rows))
        for row in rows:
            if row["step_id"] not in ready:
                continue
            await update_row(
                session,
                route_steps,
                {"dossier_id": dossier_id, "step_id": row["step_id"]},
                {"state": "assigned", "assigned_at": at, "updated_at": at, "officer": None},
            )
            await self._handover(
                session, dossier_id, row["step_id"], from_party, row["agency_name"], at, "routing-service", "assign"
            )
            await self._emit(
                session,
                StepAssigned(
                    step_id=row["step_id"],
                    agency_code=row["agency_code"],
                    agency_name=row["agency_name"],
                    department=row["department"],
                    budget_hours=row["budget_hours"],
                    assigned_at=at,
                ),
                dossier,
                cause,
            )
            await self._deliver(session, dossier, row["step_id"], row["agency_code"], row["budget_hours"], at)
        return sorted(ready)

    # ------------------------------------------------------------ phase and national portal

    async def refresh_phase(
        self, session: AsyncSession, dossier: Mapping[str, Any], at: datetime, phase: str | None = None
    ) -> None:
        if dossier["phase"] in FINAL_PHASES and phase != "delivered":
            return
        rows = await self.steps_of(session, dossier["dossier_id"])
        if phase is None:
            phase = phase_from_steps(r["state"] for r in rows)
        if phase == dossier["phase"]:
            return
        await update_row(session, dossiers, {"dossier_id": dossier["dossier_id"]}, {"phase": phase, "updated_at": at})
        await self.queue_portal_update(session, dossier, phase, at, rows)

    async def queue_portal_update(
        self,
        session: AsyncSession,
        dossier: Mapping[str, Any],
        phase: str,
        at: datetime,
        rows: list[Mapping[str, Any]] | None = None,
    ) -> None:
        if not self.settings.portal_url:
            return
        rows = rows if rows is not None else await self.steps_of(session, dossier["dossier_id"])
        unit = ", ".join(r["agency_name"] for r in rows if r["state"] in OPEN) or None
        results = (
            [d for r in rows if r["state"] == "done" for d in r["result_documents"]]
            if phase in ("result_ready", "delivered")
            else []
        )
        await session.execute(
            insert(portal_pushes).values(
                dossier_id=dossier["dossier_id"],
                status_code=status_code(phase),
                payload=portal_record(dict(dossier), phase, unit, at, results),
            )
        )

    # ------------------------------------------------------------ LGSP outbound

    async def _deliver(
        self, session: AsyncSession, dossier: Mapping[str, Any], step_id: str, agency_code: str, budget_hours: float, at: datetime
    ) -> None:
        agency = agencies_of(self.runtime).by_code.get(agency_code)
        if agency is None or not agency.lgsp_endpoint:
            return
        request_id = uuid4()
        payload = {
            "request_id": str(request_id),
            "dossier_id": str(dossier["dossier_id"]),
            "dossier_code": dossier["dossier_code"],
            "procedure_code": dossier["procedure_code"],
            "procedure_name": dossier["procedure_name"],
            "step_id": step_id,
            "agency_code": agency_code,
            "budget_hours": budget_hours,
            "assigned_at": at.isoformat(),
        }
        await session.execute(
            insert(deliveries).values(
                request_id=request_id,
                dossier_id=dossier["dossier_id"],
                step_id=step_id,
                agency_code=agency_code,
                endpoint=agency.lgsp_endpoint,
                payload=payload,
            )
        )

    # ------------------------------------------------------------ agency actions

    async def act(
        self, session: AsyncSession, agency_code: str, dossier_id: UUID, step_id: str, command: Command, channel: str = "api"
    ) -> dict[str, Any]:
        """One agency action on one of its steps; StepNotFound for anyone else's, StepConflict when illegal now."""
        dossier = await self.lock_dossier(session, dossier_id)
        if dossier is None:
            raise StepNotFound()
        driver = await driver_connection(session)
        step = await driver.fetchrow(
            "SELECT * FROM routing.route_steps WHERE dossier_id = $1 AND step_id = $2 FOR UPDATE", dossier_id, step_id
        )
        if step is None or step["agency_code"] != agency_code:
            raise StepNotFound()
        try:
            target = next_state(step["state"], command.action)
        except IllegalTransition as exc:
            raise StepConflict(str(exc), step["state"]) from None
        at = datetime.now(UTC)
        agency_name = step["agency_name"]
        values: dict[str, Any] = {"state": target, "updated_at": at}
        handler = getattr(self, f"_on_{command.action}")
        await handler(session, dossier, step, command, at, values)
        await update_row(session, route_steps, {"dossier_id": dossier_id, "step_id": step_id}, values)
        await audit.append(
            session,
            f"officer.{command.action}",
            f"{agency_code}/{command.officer}",
            dossier_id=dossier_id,
            step_id=step_id,
            channel=channel,
            reason=command.reason,
            note=command.note,
            items=command.items or None,
            result_documents=command.result_documents or None,
            to_step_id=command.to_step_id,
            to_agency_code=command.to_agency_code,
            amount_vnd=command.amount_vnd,
            receipt_ref=command.receipt_ref,
        )
        if command.action == "complete":
            await self._after_completion(session, dossier, agency_name, at)
        dossier = await self.lock_dossier(session, dossier_id)
        assert dossier is not None
        await self.refresh_phase(session, dossier, at, "refused" if command.action == "refuse" else None)
        current = await driver.fetchrow(
            "SELECT * FROM routing.route_steps WHERE dossier_id = $1 AND step_id = $2", dossier_id, step_id
        )
        return dict(current)

    async def _on_accept(
        self,
        session: AsyncSession,
        dossier: Mapping[str, Any],
        step: Mapping[str, Any],
        c: Command,
        at: datetime,
        values: dict[str, Any],
    ) -> None:
        values["officer"] = c.officer
        await self._handover(
            session, dossier["dossier_id"], step["step_id"], step["agency_name"], c.officer, at, c.officer, "accept", c.note
        )
        await self._emit(
            session,
            StepAccepted(step_id=step["step_id"], agency_code=step["agency_code"], officer=c.officer, accepted_at=at),
            dossier,
            None,
        )

    async def _on_complete(
        self,
        session: AsyncSession,
        dossier: Mapping[str, Any],
        step: Mapping[str, Any],
        c: Command,
        at: datetime,
        values: dict[str, Any],
    ) -> None:
        values.update(completed_at=at, result_documents=c.result_documents, note=c.note, officer=c.officer)
        await self._handover(
            session,
            dossier["dossier_id"],
            step["step_id"],
            step["agency_name"],
            "routing-service",
            at,
            c.officer,
            "complete",
            c.note,
        )
        await self._emit(
            session,
            StepCompleted(
                step_id=step["step_id"],
                agency_code=step["agency_code"],
                officer=c.officer,
                completed_at=at,
                result_documents=c.result_documents,
                note=c.note,
            ),
            dossier,
            None,
        )

    async def _after_completion(self, session: AsyncSession, dossier: Mapping[str, Any], from_party: str, at: datetime) -> None:
        await self.assign_ready_steps(session, dossier, None, from_party, at)
        rows = await self.steps_of(session, dossier["dossier_id"])
        if route_complete(StepState(r["step_id"], tuple(r["after"]), r["state"]) for r in rows):
            documents = [d for r in rows for d in r["result_documents"]]
            await self._emit(session, RouteCompleted(completed_at=at, result_documents=documents), dossier, None)

    async def _on_return(
        self,
        session: AsyncSession,
        dossier: Mapping[str, Any],
        step: Mapping[str, Any],
        c: Command,
        at: datetime,
        values: dict[str, Any],
    ) -> None:
        try:
            to_step_id = return_target(list(step["after"]), c.to_step_id)
        except ValueError as exc:
            raise InvalidCommand("to_step_id", str(exc)) from None
        previous = next(r for r in await self.steps_of(session, dossier["dossier_id"]) if r["step_id"] == to_step_id)
        values.update(assigned_at=None, officer=None)
        # The previous step is open again at its agency; this one waits until it is done once more.
        await session.execute(
            update(route_steps)
            .where(route_steps.c.dossier_id == dossier["dossier_id"], route_steps.c.step_id == to_step_id)
            .values(state="assigned", assigned_at=at, completed_at=None, officer=None, updated_at=at)
        )
        await self._handover(
            session,
            dossier["dossier_id"],
            to_step_id,
            step["agency_name"],
            previous["agency_name"],
            at,
            c.officer,
            "return",
            c.reason,
        )
        await self._emit(
            session,
            StepReturned(
                step_id=step["step_id"],
                to_step_id=to_step_id,
                agency_code=step["agency_code"],
                officer=c.officer,
                reason=c.reason or "",
                returned_at=at,
            ),
            dossier,
            None,
        )
        await self._deliver(session, dossier, to_step_id, previous["agency_code"], previous["budget_hours"], at)

    async def _on_supplement(
        self,
        session: AsyncSession,
        dossier: Mapping[str, Any],
        step: Mapping[str, Any],
        c: Command,
        at: datetime,
        values: dict[str, Any],
    ) -> None:
        await self._handover(
            session,
            dossier["dossier_id"],
            step["step_id"],
            step["agency_name"],
            "công dân",
            at,
            c.officer,
            "supplement",
            "; ".join(c.items),
        )
        await self._emit(
            session,
            SupplementRequested(
                requested_by=step["agency_code"], step_id=step["step_id"], items=c.items, reason=c.reason, requested_at=at
            ),
            dossier,
            None,
        )

    async def _on_fee(
        self,
        session: AsyncSession,
        dossier: Mapping[str, Any],
        step: Mapping[str, Any],
        c: Command,
        at: datetime,
        values: dict[str, Any],
    ) -> None:
        await self._handover(
            session, dossier["dossier_id"], step["step_id"], step["agency_name"], "công dân", at, c.officer, "fee", c.description
        )
        await self._emit(
            session,
            FeeRequested(
                step_id=step["step_id"],
                agency_code=step["agency_code"],
                amount_vnd=c.amount_vnd or 0,
                description=c.description or "",
                requested_at=at,
            ),
            dossier,
            None,
        )

    async def _on_fee_paid(
        self,
        session: AsyncSession,
        dossier: Mapping[str, Any],
        step: Mapping[str, Any],
        c: Command,
        at: datetime,
        values: dict[str, Any],
    ) -> None:
        await self._handover(
            session,
            dossier["dossier_id"],
            step["step_id"],
            "công dân",
            step["agency_name"],
            at,
            c.officer,
            "fee_paid",
            c.receipt_ref,
        )
        await self._emit(
            session,
            FeePaid(
                step_id=step["step_id"],
                agency_code=step["agency_code"],
                amount_vnd=c.amount_vnd or 0,
                receipt_ref=c.receipt_ref,
                paid_at=at,
            ),
            dossier,
            None,
        )

    async def _on_stop(
        self,
        session: AsyncSession,
        dossier: Mapping[str, Any],
        step: Mapping[str, Any],
        c: Command,
        at: datetime,
        values: dict[str, Any],
    ) -> None:
        await self._handover(
            session,
            dossier["dossier_id"],
            step["step_id"],
            step["agency_name"],
            step["agency_name"],
            at,
            c.officer,
            "stop",
            c.reason,
        )
        await self._emit(
            session,
            HandlingStopped(step_id=step["step_id"], agency_code=step["agency_code"], reason=c.reason or "", stopped_at=at),
            dossier,
            None,
        )

    async def _on_resume(
        self,
        session: AsyncSession,
        dossier: Mapping[str, Any],
        step: Mapping[str, Any],
        c: Command,
        at: datetime,
        values: dict[str, Any],
    ) -> None:
        await self._handover(
            session,
            dossier["dossier_id"],
            step["step_id"],
            step["agency_name"],
            step["agency_name"],
            at,
            c.officer,
            "resume",
            c.note,
        )
        await self._emit(
            session, HandlingResumed(step_id=step["step_id"], agency_code=step["agency_code"], resumed_at=at), dossier, None
        )

    async def _on_refuse(
        self,
        session: AsyncSession,
        dossier: Mapping[str, Any],
        step: Mapping[str, Any],
        c: Command,
        at: datetime,
        values: dict[str, Any],
    ) -> None:
        await self._cancel_others(session, dossier["dossier_id"], step["step_id"], at)
        await self._handover(
            session, dossier["dossier_id"], step["step_id"], step["agency_name"], "công dân", at, c.officer, "refuse", c.reason
        )
        await self._emit(
            session,
            DossierRefused(refused_by=step["agency_code"], step_id=step["step_id"], reason=c.reason or "", refused_at=at),
            dossier,
            None,
        )

    async def _on_transfer(
        self,
        session: AsyncSession,
        dossier: Mapping[str, Any],
        step: Mapping[str, Any],
        c: Command,
        at: datetime,
        values: dict[str, Any],
    ) -> None:
        target = agencies_of(self.runtime).by_code.get(c.to_agency_code or "")
        if target is None:
            raise InvalidCommand("to_agency_code", f"unknown agency {c.to_agency_code!r}")
        if target.code == step["agency_code"]:
            raise InvalidCommand("to_agency_code", "the step is already at this agency")
        values.update(agency_code=target.code, agency_name=target.name, department=None, assigned_at=at, officer=None)
        await self._handover(
            session, dossier["dossier_id"], step["step_id"], step["agency_name"], target.name, at, c.officer, "transfer", c.reason
        )
        await self._emit(
            session,
            StepTransferred(
                step_id=step["step_id"],
                from_agency_code=step["agency_code"],
                to_agency_code=target.code,
                to_agency_name=target.name,
                officer=c.officer,
                reason=c.reason or "",
                transferred_at=at,
            ),
            dossier,
            None,
        )
        await self._deliver(session, dossier, step["step_id"], target.code, step["budget_hours"], at)

    async def _cancel_others(self, session: AsyncSession, dossier_id: UUID, except_step: str | None, at: datetime) -> None:
        condition = [route_steps.c.dossier_id == dossier_id, route_steps.c.state.in_(OPEN | {"waiting"})]
        if except_step:
            condition.append(route_steps.c.step_id != except_step)
        await session.execute(update(route_steps).where(*condition).values(state="cancelled", updated_at=at))

    # ------------------------------------------------------------ what intake tells us

    async def supplement_received(self, session: AsyncSession, envelope: Envelope) -> None:
        """The citizen handed in the items: the step that asked resumes."""
        dossier = await self.lock_dossier(session, UUID(envelope.dossier_id))
        if dossier is None:  # a counter-level supplement, before the dossier was received and routed
            return
        at = envelope.occurred_at
        waiting = [r for r in await self.steps_of(session, dossier["dossier_id"]) if r["state"] == "supplement"]
        for row in waiting:
            await session.execute(
                update(route_steps)
                .where(route_steps.c.dossier_id == dossier["dossier_id"], route_steps.c.step_id == row["step_id"])
                .values(state=next_state("supplement", "supplement_received"), updated_at=at)
            )
            await self._handover(
                session,
                dossier["dossier_id"],
                row["step_id"],
                "Bộ phận một cửa",
                row["agency_name"],
                at,
                "routing-service",
                "supplement_received",
            )
            await audit.append(
                session, "intake.supplement_received", "intake", dossier_id=dossier["dossier_id"], step_id=row["step_id"]
            )
        await self.refresh_phase(session, dossier, at)

    async def close(self, session: AsyncSession, envelope: Envelope, phase: str) -> None:
        """Withdrawn by the citizen or refused at the counter: open steps stop."""
        dossier = await self.lock_dossier(session, UUID(envelope.dossier_id))
        if dossier is None:
            return
        at = envelope.occurred_at
        await self._cancel_others(session, dossier["dossier_id"], None, at)
        await audit.append(session, f"intake.{phase}", "intake", dossier_id=dossier["dossier_id"])
        await self.refresh_phase(session, dossier, at, phase)

    async def result_returned(self, session: AsyncSession, envelope: Envelope) -> None:
        dossier = await self.lock_dossier(session, UUID(envelope.dossier_id))
        if dossier is not None:
            await self.refresh_phase(session, dossier, envelope.occurred_at, "delivered")
