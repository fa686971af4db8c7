"""Deadline follows each dossier's life from intake's and routing's events: one handler per event
type, each applying its use case (`deadline.application.tracking`) in the consumer's transaction,
and the order the two topics can break.

Intake's and routing's topics are read independently, so:
- an event about a dossier whose receipt (`dossier.received`) has not been read yet (after a
  restart with a backlog, routing's topic can be read ahead of intake's) is parked, and applied in
  the order it was read once the receipt is;
- an agency's supplement request comes on routing's topic and the citizen's answer on intake's: an
  answer read before its request waits for the request;
- the asking step's completion, or the route's, can only follow the citizen's answer: read while
  the dossier still waits for that answer, it waits for the answer.

Every handler takes the dossier's lock first (the parking's), so the check "has what this event
follows been applied?" and the parking that follows it are one step against the event that
releases it, whichever replica reads it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from deadline.application.ports import EventWork
from deadline.application.tracking import (
    close_dossier,
    close_step,
    end_tracking,
    pause_clock,
    resume_clock,
    start_step_clock,
    track_dossier,
    transfer_step,
)
from deadline.domain.tracking import DossierState, awaits_agency_supplement
from services.events import Envelope, parse
from services.events.schemas import (
    DossierReceived,
    DossierRefused,
    DossierWithdrawn,
    FeePaid,
    FeeRequested,
    HandlingResumed,
    HandlingStopped,
    RouteCompleted,
    StepAssigned,
    StepCompleted,
    StepTransferred,
    SupplementReceived,
    SupplementRequested,
)
from services.vocabulary import PortalStatus

Handler = Callable[[EventWork, Envelope], Awaitable[None]]


# ---------------------------------------------------------------- the order between the topics


async def _tracked(work: EventWork, envelope: Envelope) -> str | None:
    """The dossier's state, under its lock; None when its receipt has not been read yet, and the
    event then waits for it."""
    await work.parking.hold(envelope.dossier_id)
    state = await work.deadlines.state(UUID(envelope.dossier_id))
    if state is None:
        await work.parking.park(envelope)
    return state


async def _waits_for_answer(work: EventWork, envelope: Envelope, step_id: str | None = None) -> bool:
    """Park the event while the dossier waits for the citizen's answer to a supplement an agency
    asked for (the given step's agency, or any): the answer was given, and is read later."""
    pause = await work.deadlines.open_pause(UUID(envelope.dossier_id))
    if not awaits_agency_supplement(pause) or (step_id is not None and pause is not None and pause["step_id"] != step_id):
        return False
    await work.parking.park(envelope)
    return True


async def _apply_parked(work: EventWork, dossier_id: str) -> None:
    """Apply what waited for the event just applied, in the order it was read (an event that must
    wait longer is parked again)."""
    for waiting in await work.parking.release(dossier_id):
        await HANDLERS[waiting.type](work, waiting)


async def _answered(work: EventWork, answer: Envelope) -> None:
    """The citizen's supplement (hồ sơ bổ sung) handed in: the clock runs again, and what waited for the answer follows."""
    await resume_clock(work, work.rules, answer, parse(answer, SupplementReceived).received_at)
    await _apply_parked(work, answer.dossier_id)


# ---------------------------------------------------------------- intake's events


async def on_dossier_received(work: EventWork, envelope: Envelope) -> None:
    """The receipt: tracking starts, and what was read before it is applied now, in order."""
    await work.parking.hold(envelope.dossier_id)
    await track_dossier(work, work.rules, envelope, parse(envelope, DossierReceived))
    await _apply_parked(work, envelope.dossier_id)


async def on_supplement_requested(work: EventWork, envelope: Envelope) -> None:
    """At the counter or by an agency (status 5). An answer read before this request is applied
    now: the first handed in at or after the request."""
    if await _tracked(work, envelope) is None:
        return
    event = parse(envelope, SupplementRequested)
    await pause_clock(
        work,
        work.rules,
        envelope,
        PortalStatus.SUPPLEMENT_REQUESTED,
        event.requested_at,
        requested_by=event.requested_by,
        step_id=event.step_id,
    )
    waiting = await work.parking.release(envelope.dossier_id)
    answer = next(
        (
            e
            for e in waiting
            if e.type == SupplementReceived.event_type and parse(e, SupplementReceived).received_at >= event.requested_at
        ),
        None,
    )
    for other in waiting:
        if other is not answer:
            await work.parking.park(other)
    if answer is not None:
        await _answered(work, answer)


async def on_supplement_received(work: EventWork, envelope: Envelope) -> None:
    """The citizen's answer; read before the request it answers, it waits for the request."""
    state = await _tracked(work, envelope)
    if state is None:
        return
    if state == DossierState.RUNNING:  # read before the request it answers
        await work.parking.park(envelope)
        return
    await _answered(work, envelope)


async def on_refused(work: EventWork, envelope: Envelope) -> None:
    if await _tracked(work, envelope) is not None:
        await end_tracking(work, envelope, DossierState.REFUSED, parse(envelope, DossierRefused).refused_at)


async def on_withdrawn(work: EventWork, envelope: Envelope) -> None:
    if await _tracked(work, envelope) is not None:
        await end_tracking(work, envelope, DossierState.WITHDRAWN, parse(envelope, DossierWithdrawn).withdrawn_at)


# ---------------------------------------------------------------- routing's events


async def on_step_assigned(work: EventWork, envelope: Envelope) -> None:
    if await _tracked(work, envelope) is not None:
        await start_step_clock(work, work.rules, envelope, parse(envelope, StepAssigned))


async def on_step_completed(work: EventWork, envelope: Envelope) -> None:
    if await _tracked(work, envelope) is None:
        return
    event = parse(envelope, StepCompleted)
    if await _waits_for_answer(work, envelope, event.step_id):  # the step that asked cannot be done before the answer
        return
    await close_step(work, envelope, event.step_id, event.completed_at)


async def on_step_transferred(work: EventWork, envelope: Envelope) -> None:
    if await _tracked(work, envelope) is not None:
        event = parse(envelope, StepTransferred)
        await transfer_step(work, envelope, event.step_id, event.to_agency_code, event.to_agency_name)


async def on_route_completed(work: EventWork, envelope: Envelope) -> None:
    if await _tracked(work, envelope) is None or await _waits_for_answer(work, envelope):
        return
    await close_dossier(work, envelope, parse(envelope, RouteCompleted).completed_at)


async def on_fee_requested(work: EventWork, envelope: Envelope) -> None:
    if await _tracked(work, envelope) is not None:
        event = parse(envelope, FeeRequested)
        await pause_clock(
            work,
            work.rules,
            envelope,
            PortalStatus.AWAITING_PAYMENT,
            event.requested_at,
            requested_by=event.agency_code,
            step_id=event.step_id,
        )


async def on_fee_paid(work: EventWork, envelope: Envelope) -> None:
    if await _tracked(work, envelope) is not None:
        await resume_clock(work, work.rules, envelope, parse(envelope, FeePaid).paid_at)


async def on_handling_stopped(work: EventWork, envelope: Envelope) -> None:
    if await _tracked(work, envelope) is not None:
        event = parse(envelope, HandlingStopped)
        await pause_clock(
            work,
            work.rules,
            envelope,
            PortalStatus.STOPPED,
            event.stopped_at,
            requested_by=event.agency_code,
            step_id=event.step_id,
        )


async def on_handling_resumed(work: EventWork, envelope: Envelope) -> None:
    if await _tracked(work, envelope) is not None:
        await resume_clock(work, work.rules, envelope, parse(envelope, HandlingResumed).resumed_at)


HANDLERS: dict[str, Handler] = {
    DossierReceived.event_type: on_dossier_received,
    SupplementRequested.event_type: on_supplement_requested,
    SupplementReceived.event_type: on_supplement_received,
    DossierRefused.event_type: on_refused,
    DossierWithdrawn.event_type: on_withdrawn,
    StepAssigned.event_type: on_step_assigned,
    StepCompleted.event_type: on_step_completed,
    StepTransferred.event_type: on_step_transferred,
    RouteCompleted.event_type: on_route_completed,
    FeeRequested.event_type: on_fee_requested,
    FeePaid.event_type: on_fee_paid,
    HandlingStopped.event_type: on_handling_stopped,
    HandlingResumed.event_type: on_handling_resumed,
}
