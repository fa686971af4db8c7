"""Deadline follows each dossier's life from intake's and routing's events: it starts the due
times, pauses and resumes them, closes them (early / on time / late) and ends tracking on a
refusal or withdrawal. The two topics are read independently, so an event about a dossier whose
receipt has not been read yet (after a restart with a backlog, routing's `route_completed` can
come before intake's `dossier.received`) is parked, and applied in order once the receipt is."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from deadline.domain.clock import parse_thresholds
from deadline.tracking import Tracker
from services.calendar import working_calendar
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
from services.messaging import Subscription
from services.runtime import Runtime

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]


def tracker_of(runtime: Runtime) -> Tracker:
    return Tracker(working_calendar(), parse_thresholds(runtime.settings.warning_thresholds), runtime.outbox)  # type: ignore[attr-defined]


def subscriptions(runtime: Runtime) -> list[Subscription]:
    tracker = tracker_of(runtime)
    calendar = tracker.calendar

    async def on_dossier_received(session: AsyncSession, envelope: Envelope) -> None:
        await tracker.hold(session, envelope.dossier_id)
        await tracker.track_dossier(session, envelope, parse(envelope, DossierReceived))
        for waiting in await tracker.unpark(session, envelope.dossier_id):
            await handlers[waiting.type](session, waiting)

    def after_receipt(handler: Handler) -> Handler:
        async def run(session: AsyncSession, envelope: Envelope) -> None:
            await tracker.hold(session, envelope.dossier_id)
            if await tracker.tracked(session, envelope.dossier_id):
                await handler(session, envelope)
            else:
                await tracker.park(session, envelope)

        return run

    async def on_step_assigned(session: AsyncSession, envelope: Envelope) -> None:
        event = parse(envelope, StepAssigned)
        started = calendar.clock_start(event.assigned_at)
        await tracker.track(
            session,
            envelope,
            scope="step",
            step_id=event.step_id,
            agency_code=event.agency_code,
            agency_name=event.agency_name,
            started_at=started,
            due_at=calendar.add_working_hours(started, event.budget_hours),
            budget_hours=event.budget_hours,
        )

    async def on_step_completed(session: AsyncSession, envelope: Envelope) -> None:
        event = parse(envelope, StepCompleted)
        waiting = await tracker.awaiting_supplement(session, envelope.dossier_id)
        if waiting is not None and waiting["step_id"] == event.step_id:
            await tracker.park(session, envelope)  # the step that asked cannot be done before the answer: it is on its way
            return
        await tracker.close_step(session, envelope, event.step_id, event.completed_at)

    async def on_step_transferred(session: AsyncSession, envelope: Envelope) -> None:
        event = parse(envelope, StepTransferred)
        await tracker.transfer_step(session, envelope, event.step_id, event.to_agency_code, event.to_agency_name)

    async def on_route_completed(session: AsyncSession, envelope: Envelope) -> None:
        if await tracker.awaiting_supplement(session, envelope.dossier_id) is not None:
            await tracker.park(session, envelope)  # likewise: the citizen's answer was given, it is read later
            return
        await tracker.close_dossier(session, envelope, parse(envelope, RouteCompleted).completed_at)

    async def on_supplement_requested(session: AsyncSession, envelope: Envelope) -> None:
        event = parse(envelope, SupplementRequested)
        await tracker.pause(session, envelope, 5, event.requested_at, event.requested_by, event.step_id)
        early = [e for e in await tracker.unpark(session, envelope.dossier_id) if e.type == SupplementReceived.event_type]
        answer = next((e for e in early if parse(e, SupplementReceived).received_at >= event.requested_at), None)
        for other in early:
            if other is not answer:
                await tracker.park(session, other)
        if answer is not None:
            await tracker.resume(session, answer, parse(answer, SupplementReceived).received_at)

    async def on_fee_requested(session: AsyncSession, envelope: Envelope) -> None:
        event = parse(envelope, FeeRequested)
        await tracker.pause(session, envelope, 6, event.requested_at, event.agency_code, event.step_id)

    async def on_handling_stopped(session: AsyncSession, envelope: Envelope) -> None:
        event = parse(envelope, HandlingStopped)
        await tracker.pause(session, envelope, 8, event.stopped_at, event.agency_code, event.step_id)

    async def on_supplement_received(session: AsyncSession, envelope: Envelope) -> None:
        # An agency's request comes on routing's topic, the citizen's answer on intake's, so either
        # can be read first. An answer read before its request waits for it; routing's events that
        # could only follow the answer (the asking step done, the route completed) wait for the answer.
        if await tracker.state(session, envelope.dossier_id) == "running":
            await tracker.park(session, envelope)
            return
        await tracker.resume(session, envelope, parse(envelope, SupplementReceived).received_at)
        for waiting in await tracker.unpark(session, envelope.dossier_id):
            await handlers[waiting.type](session, waiting)

    async def on_fee_paid(session: AsyncSession, envelope: Envelope) -> None:
        await tracker.resume(session, envelope, parse(envelope, FeePaid).paid_at)

    async def on_handling_resumed(session: AsyncSession, envelope: Envelope) -> None:
        await tracker.resume(session, envelope, parse(envelope, HandlingResumed).resumed_at)

    async def on_refused(session: AsyncSession, envelope: Envelope) -> None:
        await tracker.end(session, envelope, "refused", parse(envelope, DossierRefused).refused_at)

    async def on_withdrawn(session: AsyncSession, envelope: Envelope) -> None:
        await tracker.end(session, envelope, "withdrawn", parse(envelope, DossierWithdrawn).withdrawn_at)

    handlers: dict[str, Handler] = {
        StepAssigned.event_type: on_step_assigned,
        StepCompleted.event_type: on_step_completed,
        StepTransferred.event_type: on_step_transferred,
        RouteCompleted.event_type: on_route_completed,
        SupplementRequested.event_type: on_supplement_requested,
        FeeRequested.event_type: on_fee_requested,
        HandlingStopped.event_type: on_handling_stopped,
        SupplementReceived.event_type: on_supplement_received,
        FeePaid.event_type: on_fee_paid,
        HandlingResumed.event_type: on_handling_resumed,
        DossierRefused.event_type: on_refused,
        DossierWithdrawn.event_type: on_withdrawn,
    }
    return [
        Subscription(
            name="tracker",
            sources=("intake", "routing"),
            handlers={DossierReceived.event_type: on_dossier_received, **{t: after_receipt(h) for t, h in handlers.items()}},
        )
    ]
