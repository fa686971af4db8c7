"""A dossier's route: fixed when intake receives the dossier, its ready steps handed to their
agencies (bàn giao, each handover on the control sheet, form 5), its phase and national status
kept, and what intake tells routing afterwards: a supplement handed in resumes the step that asked,
a withdrawal or a counter refusal stops the open steps (read before the route, it waits for it),
a returned result is status 10.

Everything here runs in the caller's transaction (a consumer's, or an agency action's): state,
handovers, audit records, outbound deliveries, portal pushes and the announcing events commit
together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from routing.application.ports import RoutingWork
from routing.domain.national import FINAL_PHASES, phase_from_steps, portal_record, status_code
from routing.domain.route import StepState, ready_steps
from routing.domain.steps import OPEN, next_state
from services.events import Envelope, Event
from services.events.schemas import DossierReceived, DossierWithdrawn, StepAssigned

Row = dict[str, Any]

ROUTING = "routing-service"  # the actor of what routing does by itself
COUNTER = "Bộ phận một cửa"  # the one-stop counter (Bộ phận tiếp nhận và trả kết quả)


@dataclass(frozen=True)
class Giver:
    """Who hands a dossier on, as a control sheet line names them (người giao): an officer by
    display name and subject, or routing itself."""

    name: str = ROUTING
    subject: str | None = None


ITSELF = Giver()


def giver_of(envelope: Envelope) -> Giver:
    """The officer whose action at intake caused the event (from their token), or routing itself
    for anything else (a citizen online, the portal, the LGSP)."""
    actor = envelope.actor
    if actor is not None and actor.kind == "officer":
        return Giver(actor.name, actor.subject)
    return ITSELF


async def announce(work: RoutingWork, event: Event, dossier: Mapping[str, Any], cause: Envelope | None = None) -> None:
    """Emit an event about the dossier: caused by an event read, or starting from the dossier's own correlation."""
    await work.events.emit(
        event,
        dossier_id=str(dossier["dossier_id"]),
        causation=cause,
        correlation_id=None if cause else dossier["correlation_id"],
    )


async def hand_over(
    work: RoutingWork,
    dossier_id: UUID,
    step_id: str,
    from_party: str,
    to_party: str,
    at: datetime,
    actor: str,
    action: str,
    note: str | None = None,
    *,
    actor_subject: str | None = None,
) -> None:
    """One line of the control sheet (Phiếu kiểm soát quá trình giải quyết hồ sơ, form 5): who handed
    what to whom, when; the actor by name, and by the identity provider's subject when signed in."""
    await work.routes.add_handover(
        {
            "dossier_id": dossier_id,
            "step_id": step_id,
            "from_party": from_party,
            "to_party": to_party,
            "at": at,
            "actor": actor,
            "actor_subject": actor_subject,
            "action": action,
            "note": note,
        }
    )


async def fix_route(work: RoutingWork, envelope: Envelope) -> None:
    """Hồ sơ đã tiếp nhận: record the route fixed from the catalogue, and assign its first steps."""
    event = DossierReceived.model_validate(envelope.payload)
    dossier_id = UUID(envelope.dossier_id)
    at = envelope.occurred_at
    dossier: Row = {
        "dossier_id": dossier_id,
        "dossier_code": event.dossier_code,
        "procedure_code": event.procedure_code,
        "procedure_name": event.procedure_name,
        "field_code": event.field_code,
        "channel": event.channel,
        # The name alone, for the portal's ChuHoSo (older events carried the whole contact).
        "applicant_name": event.applicant_name or (event.applicant.name if event.applicant else None),
        "receiving_unit": event.receiving_unit,
        "received_at": event.received_at,
        "appointment_at": event.appointment_at,
        "phase": "received",
        "correlation_id": envelope.correlation_id,
        "updated_at": at,
    }
    steps: list[Row] = [
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
    ]
    await work.parking.hold(envelope.dossier_id)
    await work.routes.add_dossier(dossier)
    await work.routes.add_steps(steps)
    # The rows just written are the route as it stands: no need to read them back.
    steps = [{**row, "result_documents": []} for row in steps]
    await queue_portal_update(work, dossier, "received", at, steps)
    counter = f"{COUNTER} {event.receiving_unit}"
    steps = await assign_ready_steps(work, dossier, envelope, counter, at, steps, giver=giver_of(envelope))
    await refresh_phase(work, dossier, at, steps=steps)
    # A withdrawal or refusal read before this receipt waited for the route: it applies now.
    for waiting in await work.parking.release(envelope.dossier_id):
        await close_route(work, waiting)


async def assign_ready_steps(
    work: RoutingWork,
    dossier: Mapping[str, Any],
    cause: Envelope | None,
    from_party: str,
    at: datetime,
    steps: Sequence[Row] | None = None,
    *,
    giver: Giver = ITSELF,
) -> list[Row]:
    """Hand every waiting step whose predecessors are done to its agency: parallel branches start
    together; the control sheet names `giver` as handing each over (the officer who received the
    dossier, or who completed the step before). The route's steps as they are afterwards."""
    dossier_id = dossier["dossier_id"]
    rows = list(steps) if steps is not None else await work.routes.steps(dossier_id)
    ready = set(ready_steps(StepState(r["step_id"], tuple(r["after"]), r["state"]) for r in rows))
    if not ready:
        return rows
    after: list[Row] = []
    for row in rows:
        if row["step_id"] not in ready:
            after.append(row)
            continue
        changes = {"state": "assigned", "assigned_at": at, "updated_at": at, "officer": None, "officer_subject": None}
        await work.routes.update_step(dossier_id, row["step_id"], changes)
        await hand_over(
            work,
            dossier_id,
            row["step_id"],
            from_party,
            row["agency_name"],
            at,
            giver.name,
            "assign",
            actor_subject=giver.subject,
        )
        await announce(
            work,
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
        await queue_delivery(work, dossier, row["step_id"], row["agency_code"], row["budget_hours"], at)
        after.append({**row, **changes})
    return after


async def queue_delivery(
    work: RoutingWork, dossier: Mapping[str, Any], step_id: str, agency_code: str, budget_hours: float, at: datetime
) -> None:
    """A step handed to an agency whose own system sits behind the LGSP is also delivered to that
    system (by the exchange worker, from this row written in the same transaction)."""
    agency = work.partners.agencies.by_code.get(agency_code)
    if agency is None or not agency.lgsp_endpoint:
        return
    request_id = uuid4()
    await work.routes.add_delivery(
        {
            "request_id": request_id,
            "dossier_id": dossier["dossier_id"],
            "step_id": step_id,
            "agency_code": agency_code,
            "endpoint": agency.lgsp_endpoint,
            "payload": {
                "request_id": str(request_id),
                "dossier_id": str(dossier["dossier_id"]),
                "dossier_code": dossier["dossier_code"],
                "procedure_code": dossier["procedure_code"],
                "procedure_name": dossier["procedure_name"],
                "step_id": step_id,
                "agency_code": agency_code,
                "budget_hours": budget_hours,
                "assigned_at": at.isoformat(),
            },
        }
    )


async def refresh_phase(
    work: RoutingWork,
    dossier: Mapping[str, Any],
    at: datetime,
    phase: str | None = None,
    *,
    steps: Sequence[Row] | None = None,
) -> None:
    """Set the dossier's phase (given, or as its steps say) and queue the portal update when it changed.
    Refused, withdrawn and delivered stay so; only a returned result moves on from there."""
    if dossier["phase"] in FINAL_PHASES and phase != "delivered":
        return
    if phase is None:
        if steps is None:
            steps = await work.routes.steps(dossier["dossier_id"])
        phase = phase_from_steps(r["state"] for r in steps)
    if phase == dossier["phase"]:
        return
    await work.routes.update_dossier(dossier["dossier_id"], {"phase": phase, "updated_at": at})
    await queue_portal_update(work, dossier, phase, at, steps)


async def queue_portal_update(
    work: RoutingWork, dossier: Mapping[str, Any], phase: str, at: datetime, steps: Sequence[Row] | None = None
) -> None:
    """The national portal's record of the dossier in this phase (DongBoHoSoMC), queued for the
    portal worker: who handles it now, and the result documents once the result is ready."""
    if not work.partners.portal:
        return
    rows = list(steps) if steps is not None else await work.routes.steps(dossier["dossier_id"])
    unit = ", ".join(r["agency_name"] for r in rows if r["state"] in OPEN) or None
    results = (
        [d for r in rows if r["state"] == "done" for d in r["result_documents"]] if phase in ("result_ready", "delivered") else []
    )
    await work.routes.add_portal_push(
        {
            "dossier_id": dossier["dossier_id"],
            "status_code": int(status_code(phase)),
            "payload": portal_record(dossier, phase, unit, at, results),
        }
    )


async def supplement_received(work: RoutingWork, envelope: Envelope) -> None:
    """The citizen handed in the items: the step that asked resumes."""
    dossier = await work.routes.lock(UUID(envelope.dossier_id))
    if dossier is None:  # a counter-level supplement, before the dossier was received and routed
        return
    dossier_id = dossier["dossier_id"]
    at = envelope.occurred_at
    giver = giver_of(envelope)  # the counter officer who took the items in
    for row in await work.routes.steps(dossier_id):
        if row["state"] != "supplement":
            continue
        await work.routes.update_step(
            dossier_id, row["step_id"], {"state": next_state("supplement", "supplement_received"), "updated_at": at}
        )
        await hand_over(
            work,
            dossier_id,
            row["step_id"],
            COUNTER,
            row["agency_name"],
            at,
            giver.name,
            "supplement_received",
            actor_subject=giver.subject,
        )
        await work.routes.audit(
            "intake.supplement_received", _cause(envelope), dossier_id=dossier_id, step_id=row["step_id"], subject=giver.subject
        )
    await refresh_phase(work, dossier, at)


async def close_route(work: RoutingWork, envelope: Envelope) -> None:
    """Withdrawn by the citizen (status 7) or refused at the counter (status 3): the open steps stop.
    Read before the dossier's receipt (intake's events can be read out of order after a restart or
    a replay), it waits for the route, which `fix_route` then closes; the dossier's lock makes the
    check and the parking one step against the receipt."""
    await work.parking.hold(envelope.dossier_id)
    dossier = await work.routes.lock(UUID(envelope.dossier_id))
    if dossier is None:
        await work.parking.park(envelope)
        return
    phase = "withdrawn" if envelope.type == DossierWithdrawn.event_type else "refused"
    at = envelope.occurred_at
    await work.routes.cancel_open_steps(dossier["dossier_id"], at)
    await work.routes.audit(f"intake.{phase}", _cause(envelope), dossier_id=dossier["dossier_id"], actor_kind=_kind(envelope))
    await refresh_phase(work, dossier, at, phase)


async def result_returned(work: RoutingWork, envelope: Envelope) -> None:
    """The result was handed to the citizen: status 10."""
    dossier = await work.routes.lock(UUID(envelope.dossier_id))
    if dossier is not None:
        await refresh_phase(work, dossier, envelope.occurred_at, "delivered")


def _cause(envelope: Envelope) -> str:
    """Who caused an intake event, for the audit log: its actor's name (an officer, the citizen), or intake."""
    return envelope.actor.name if envelope.actor is not None else "intake"


def _kind(envelope: Envelope) -> str | None:
    return envelope.actor.kind if envelope.actor is not None else None
