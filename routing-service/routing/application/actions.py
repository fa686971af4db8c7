"""An agency's actions on one of its steps (xử lý hồ sơ): take it on (tiếp nhận), complete it with
its result documents, return it to the previous step, ask the citizen for a supplement (form 2) or
for fees and taxes, record the payment, stop and resume handling, refuse the dossier, transfer a
misrouted step. An officer (or the agency's own system, by client credentials) acts over REST with
a token of the identity provider; the agency's own system may send the same through the LGSP,
signed (`apply_step_result`). The officer recorded is the caller, never a name sent in the body.

Each action locks the dossier, finds the step among the steps of the caller's agencies (another
agency's step is 404, exactly like one that does not exist, and the attempt is audited: it may be a
probe), checks the action is legal in the step's state (409 with the state otherwise), applies it,
and writes the handover (control sheet, form 5), the audit record and the events, all in one
transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from routing.application.ports import RoutingUnitOfWork, RoutingWork
from routing.application.reading import agency_step_view
from routing.application.routes import (
    ROUTING,
    Giver,
    Row,
    announce,
    assign_ready_steps,
    hand_over,
    queue_delivery,
    refresh_phase,
)
from routing.domain.agencies import Agencies
from routing.domain.route import StepState, route_complete
from routing.domain.steps import Command, IllegalTransition, next_state, return_target
from routing.schemas import AgencyStep, StepResultAnswer, StepResultIn
from services.calendar import WorkingCalendar
from services.events import Event
from services.events.schemas import (
    DossierRefused,
    FeePaid,
    FeeRequested,
    HandlingResumed,
    HandlingStopped,
    RouteCompleted,
    StepAccepted,
    StepCompleted,
    StepReturned,
    StepTransferred,
    SupplementRequested,
)
from services.idempotency import KeyReused
from services.identity import OFFICERS, Principal, Role, Scope
from services.problems import Problem, field_error, invalid, not_found

CITIZEN = "công dân"


@dataclass(frozen=True)
class StepRef:
    """The step acted on: the dossier, the step."""

    dossier_id: UUID
    step_id: str


@dataclass(frozen=True)
class StepOfficer:
    """Who acts on a step, and on whose steps they may act: an officer signed in (their display
    name and subject; the agencies of their token), an agency's own system by client credentials
    (shown as its agency), or the officer an agency's system names in a signed LGSP report (no
    subject of ours). The step, its control sheet line, its events and the audit log name `name`."""

    name: str
    subject: str | None
    scope: Scope


def step_officer(caller: Principal, agencies: Agencies) -> StepOfficer:
    """The caller as the officer of their actions on steps. An agency's system signs in as a client
    with no display name of its own, so it is shown by its agency's name."""
    name = caller.name
    if caller.has(Role.AGENCY_SYSTEM) and not caller.has(*OFFICERS):
        agency = agencies.by_client.get(caller.client_id) or next(
            (agencies.by_code[code] for code in caller.agencies if code in agencies.by_code), None
        )
        name = agency.name if agency is not None else name
    return StepOfficer(name=name, subject=caller.subject, scope=caller.scope)


@dataclass(frozen=True)
class Signed:
    """A request from an agency's own system through the LGSP, its signature checked: who sent it,
    its nonce (claimed in the action's transaction, so only an applied request spends it), its size."""

    client_id: str
    nonce: str
    size: int


class _NotTheAgencys(Exception):
    """No such step, or another agency's: the two look the same from outside."""


@dataclass
class _Acting:
    """One action under way: the locked dossier and step, and the step's new column values."""

    work: RoutingWork
    dossier: Row
    step: Row
    officer: StepOfficer
    command: Command
    at: datetime
    changes: dict[str, Any]

    async def hand_over(self, from_party: str, to_party: str, note: str | None, step_id: str | None = None) -> None:
        step = step_id or self.step["step_id"]
        await hand_over(
            self.work,
            self.dossier["dossier_id"],
            step,
            from_party,
            to_party,
            self.at,
            self.officer.name,
            self.command.action,
            note,
            actor_subject=self.officer.subject,
        )

    async def announce(self, event: Event) -> None:
        await announce(self.work, event, self.dossier)


async def _accept(a: _Acting) -> None:
    c, step, officer = a.command, a.step, a.officer
    a.changes.update(officer=officer.name, officer_subject=officer.subject)
    await a.hand_over(step["agency_name"], officer.name, c.note)
    await a.announce(
        StepAccepted(step_id=step["step_id"], agency_code=step["agency_code"], officer=officer.name, accepted_at=a.at)
    )


async def _complete(a: _Acting) -> None:
    c, step = a.command, a.step
    a.changes.update(
        completed_at=a.at,
        result_documents=c.result_documents,
        note=c.note,
        officer=a.officer.name,
        officer_subject=a.officer.subject,
    )
    await a.hand_over(step["agency_name"], ROUTING, c.note)
    await a.announce(
        StepCompleted(
            step_id=step["step_id"],
            agency_code=step["agency_code"],
            officer=a.officer.name,
            completed_at=a.at,
            result_documents=c.result_documents,
            note=c.note,
        )
    )


async def _return(a: _Acting) -> None:
    c, step, dossier_id = a.command, a.step, a.dossier["dossier_id"]
    try:
        to_step_id = return_target(list(step["after"]), c.to_step_id)
    except ValueError as exc:
        raise invalid([field_error("to_step_id", str(exc))]) from None
    previous = await a.work.routes.lock_step(dossier_id, to_step_id)
    assert previous is not None  # a predecessor named in the route
    a.changes.update(assigned_at=None, officer=None, officer_subject=None)
    # The previous step is open again at its agency; this one waits until it is done once more.
    reopened = {
        "state": "assigned",
        "assigned_at": a.at,
        "completed_at": None,
        "officer": None,
        "officer_subject": None,
        "updated_at": a.at,
    }
    await a.work.routes.update_step(dossier_id, to_step_id, reopened)
    await a.hand_over(step["agency_name"], previous["agency_name"], c.reason, step_id=to_step_id)
    await a.announce(
        StepReturned(
            step_id=step["step_id"],
            to_step_id=to_step_id,
            agency_code=step["agency_code"],
            officer=a.officer.name,
            reason=c.reason or "",
            returned_at=a.at,
        )
    )
    await queue_delivery(a.work, a.dossier, to_step_id, previous["agency_code"], previous["budget_hours"], a.at)


async def _supplement(a: _Acting) -> None:
    c, step = a.command, a.step
    await a.hand_over(step["agency_name"], CITIZEN, "; ".join(c.items))
    await a.announce(
        SupplementRequested(
            requested_by=step["agency_code"], step_id=step["step_id"], items=c.items, reason=c.reason, requested_at=a.at
        )
    )


async def _fee(a: _Acting) -> None:
    c, step = a.command, a.step
    await a.hand_over(step["agency_name"], CITIZEN, c.description)
    await a.announce(
        FeeRequested(
            step_id=step["step_id"],
            agency_code=step["agency_code"],
            amount_vnd=c.amount_vnd or 0,
            description=c.description or "",
            requested_at=a.at,
        )
    )


async def _fee_paid(a: _Acting) -> None:
    c, step = a.command, a.step
    await a.hand_over(CITIZEN, step["agency_name"], c.receipt_ref)
    await a.announce(
        FeePaid(
            step_id=step["step_id"],
            agency_code=step["agency_code"],
            amount_vnd=c.amount_vnd or 0,
            receipt_ref=c.receipt_ref,
            paid_at=a.at,
        )
    )


async def _stop(a: _Acting) -> None:
    c, step = a.command, a.step
    await a.hand_over(step["agency_name"], step["agency_name"], c.reason)
    await a.announce(
        HandlingStopped(step_id=step["step_id"], agency_code=step["agency_code"], reason=c.reason or "", stopped_at=a.at)
    )


async def _resume(a: _Acting) -> None:
    c, step = a.command, a.step
    await a.hand_over(step["agency_name"], step["agency_name"], c.note)
    await a.announce(HandlingResumed(step_id=step["step_id"], agency_code=step["agency_code"], resumed_at=a.at))


async def _refuse(a: _Acting) -> None:
    c, step = a.command, a.step
    await a.work.routes.cancel_open_steps(a.dossier["dossier_id"], a.at, except_step=step["step_id"])
    await a.hand_over(step["agency_name"], CITIZEN, c.reason)
    await a.announce(
        DossierRefused(refused_by=step["agency_code"], step_id=step["step_id"], reason=c.reason or "", refused_at=a.at)
    )


async def _transfer(a: _Acting) -> None:
    c, step = a.command, a.step
    target = a.work.partners.agencies.by_code.get(c.to_agency_code or "")
    if target is None:
        raise invalid([field_error("to_agency_code", f"unknown agency {c.to_agency_code!r}")])
    if target.code == step["agency_code"]:
        raise invalid([field_error("to_agency_code", "the step is already at this agency")])
    a.changes.update(
        agency_code=target.code, agency_name=target.name, department=None, assigned_at=a.at, officer=None, officer_subject=None
    )
    await a.hand_over(step["agency_name"], target.name, c.reason)
    await a.announce(
        StepTransferred(
            step_id=step["step_id"],
            from_agency_code=step["agency_code"],
            to_agency_code=target.code,
            to_agency_name=target.name,
            officer=a.officer.name,
            reason=c.reason or "",
            transferred_at=a.at,
        )
    )
    await queue_delivery(a.work, a.dossier, step["step_id"], target.code, step["budget_hours"], a.at)


_APPLY: dict[str, Callable[[_Acting], Awaitable[None]]] = {
    "accept": _accept,
    "complete": _complete,
    "return": _return,
    "supplement": _supplement,
    "fee": _fee,
    "fee_paid": _fee_paid,
    "stop": _stop,
    "resume": _resume,
    "refuse": _refuse,
    "transfer": _transfer,
}


async def _after_completion(work: RoutingWork, dossier: Row, from_party: str, officer: StepOfficer, at: datetime) -> list[Row]:
    """The steps now ready are handed on by the officer who completed the step before them; when
    every branch is done, the route is complete."""
    giver = Giver(officer.name, officer.subject)
    steps = await assign_ready_steps(work, dossier, None, from_party, at, giver=giver)
    if route_complete(StepState(r["step_id"], tuple(r["after"]), r["state"]) for r in steps):
        await announce(
            work, RouteCompleted(completed_at=at, result_documents=[d for r in steps for d in r["result_documents"]]), dossier
        )
    return steps


async def _act(
    uow: RoutingUnitOfWork,
    calendar: WorkingCalendar,
    ref: StepRef,
    officer: StepOfficer,
    command: Command,
    *,
    channel: str = "api",
    signed: Signed | None = None,
) -> AgencyStep:
    """Carry the command out on the step in one transaction (with the signed request's nonce, when it
    came through the LGSP); the step as its agency now sees it."""
    dossier_id, step_id = ref.dossier_id, ref.step_id
    try:
        async with uow() as work:
            if signed is not None:  # KeyReused when an applied request already spent the nonce
                await work.routes.claim_nonce(signed.client_id, signed.nonce)
            dossier = await work.routes.lock(dossier_id)
            step = await work.routes.lock_step(dossier_id, step_id, officer.scope) if dossier is not None else None
            if dossier is None or step is None:
                raise _NotTheAgencys()
            try:
                target = next_state(step["state"], command.action)
            except IllegalTransition as exc:
                raise Problem(409, "Conflict", str(exc), type="illegal-transition", state=step["state"]) from None
            at = datetime.now(UTC)
            if signed is not None:
                await work.routes.audit("lgsp.inbound", step["agency_code"], size=signed.size)
            acting = _Acting(work, dossier, step, officer, command, at, {"state": target, "updated_at": at})
            await _APPLY[command.action](acting)
            await work.routes.update_step(dossier_id, step_id, acting.changes)
            await work.routes.audit(
                f"officer.{command.action}",
                officer.name,
                dossier_id=dossier_id,
                step_id=step_id,
                agency=step["agency_code"],
                subject=officer.subject,
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
            completed = command.action == "complete"
            steps = await _after_completion(work, dossier, step["agency_name"], officer, at) if completed else None
            await refresh_phase(work, dossier, at, "refused" if command.action == "refuse" else None, steps=steps)
            current = {**dossier, **step, **acting.changes}
    except _NotTheAgencys:
        async with uow() as work:
            await work.routes.audit(
                "step.action_refused",
                officer.name,
                dossier_id=dossier_id,
                step_id=step_id[:64],
                action=command.action,
                subject=officer.subject,
                agencies=None if officer.scope.everything else list(officer.scope.agencies),
                channel=channel,
                reason="no such step among the caller's agencies' steps",
            )
        raise not_found(f"no step {step_id} of dossier {dossier_id} among your agencies' steps") from None
    return agency_step_view(calendar, current)


async def accept_step(
    uow: RoutingUnitOfWork, calendar: WorkingCalendar, ref: StepRef, officer: StepOfficer, *, note: str | None
) -> AgencyStep:
    """Tiếp nhận: the officer takes the step on."""
    return await _act(uow, calendar, ref, officer, Command("accept", note=note))


async def complete_step(
    uow: RoutingUnitOfWork,
    calendar: WorkingCalendar,
    ref: StepRef,
    officer: StepOfficer,
    *,
    result_documents: list[str],
    note: str | None,
) -> AgencyStep:
    """The step is done with its result documents: the steps after it are handed on, and once every
    branch is done the route is complete (`routing.route_completed`, result ready: status 9)."""
    command = Command("complete", note=note, result_documents=result_documents)
    return await _act(uow, calendar, ref, officer, command)


async def return_step(
    uow: RoutingUnitOfWork, calendar: WorkingCalendar, ref: StepRef, officer: StepOfficer, *, reason: str, to_step_id: str | None
) -> AgencyStep:
    """Back to a previous step (by default the last one before), with the reason: that step is open again."""
    command = Command("return", reason=reason, to_step_id=to_step_id)
    return await _act(uow, calendar, ref, officer, command)


async def request_supplement(
    uow: RoutingUnitOfWork, calendar: WorkingCalendar, ref: StepRef, officer: StepOfficer, *, items: list[str], reason: str | None
) -> AgencyStep:
    """Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (form 2), every missing item at once: status 5, the clock pauses."""
    command = Command("supplement", items=items, reason=reason)
    return await _act(uow, calendar, ref, officer, command)


async def request_fee(
    uow: RoutingUnitOfWork, calendar: WorkingCalendar, ref: StepRef, officer: StepOfficer, *, amount_vnd: int, description: str
) -> AgencyStep:
    """The citizen owes fees or taxes (nghĩa vụ tài chính): status 6, the clock pauses."""
    command = Command("fee", amount_vnd=amount_vnd, description=description)
    return await _act(uow, calendar, ref, officer, command)


async def record_payment(
    uow: RoutingUnitOfWork,
    calendar: WorkingCalendar,
    ref: StepRef,
    officer: StepOfficer,
    *,
    amount_vnd: int,
    receipt_ref: str | None,
) -> AgencyStep:
    """The citizen paid: handling resumes."""
    command = Command("fee_paid", amount_vnd=amount_vnd, receipt_ref=receipt_ref)
    return await _act(uow, calendar, ref, officer, command)


async def stop_handling(
    uow: RoutingUnitOfWork, calendar: WorkingCalendar, ref: StepRef, officer: StepOfficer, *, reason: str
) -> AgencyStep:
    """Dừng giải quyết, with the reason: status 8, the clock pauses."""
    return await _act(uow, calendar, ref, officer, Command("stop", reason=reason))


async def resume_handling(
    uow: RoutingUnitOfWork, calendar: WorkingCalendar, ref: StepRef, officer: StepOfficer, *, note: str | None
) -> AgencyStep:
    """Handling goes on after a stop."""
    return await _act(uow, calendar, ref, officer, Command("resume", note=note))


async def refuse_dossier(
    uow: RoutingUnitOfWork, calendar: WorkingCalendar, ref: StepRef, officer: StepOfficer, *, reason: str
) -> AgencyStep:
    """The agency refuses the dossier with its legal ground: status 3, every other open step ends."""
    return await _act(uow, calendar, ref, officer, Command("refuse", reason=reason))


async def transfer_step(
    uow: RoutingUnitOfWork, calendar: WorkingCalendar, ref: StepRef, officer: StepOfficer, *, to_agency_code: str, reason: str
) -> AgencyStep:
    """A misrouted step goes to the competent agency (422 for an unknown agency, or this one)."""
    command = Command("transfer", reason=reason, to_agency_code=to_agency_code)
    return await _act(uow, calendar, ref, officer, command)


async def refuse_request(uow: RoutingUnitOfWork, client_id: str | None, problem: Problem) -> Problem:
    """A signed request refused (its signature, its age, its body, a spent nonce, an action not
    possible now): recorded in the audit log with the reason it is answered with."""
    async with uow() as work:
        await work.routes.audit("lgsp.inbound_refused", client_id or "unknown", reason=problem.detail)
    return problem


async def apply_step_result(
    uow: RoutingUnitOfWork, calendar: WorkingCalendar, agency_code: str, signed: Signed, result: StepResultIn
) -> StepResultAnswer:
    """A step result from the agency's own system, its signature checked: the action it reports,
    carried out as an officer's would be, with the nonce claimed in the same transaction. A nonce an
    applied request spent is 409; a request whose action failed leaves its nonce unspent, so the
    sender may retry it once the cause is gone."""
    if result.action in ("return", "refuse") and not result.reason:
        raise await refuse_request(uow, signed.client_id, invalid([field_error("reason", "required for this action", "missing")]))
    if result.action == "supplement" and not result.items:
        raise await refuse_request(uow, signed.client_id, invalid([field_error("items", "at least one item", "too_short")]))
    command = Command(
        result.action,
        note=result.note,
        reason=result.reason,
        result_documents=result.result_documents,
        items=result.items,
        to_step_id=result.to_step_id,
    )
    # The agency's own officer, as its system names them: no subject of ours.
    officer = StepOfficer(name=result.officer, subject=None, scope=Scope(agencies=(agency_code,)))
    try:
        ref = StepRef(result.dossier_id, result.step_id)
        step = await _act(uow, calendar, ref, officer, command, channel="lgsp", signed=signed)
    except KeyReused:
        replayed = Problem(409, "Replayed request", "this nonce was already used", type="replayed-request")
        raise await refuse_request(uow, signed.client_id, replayed) from None
    except Problem as problem:
        if problem.status != 404:  # another agency's step is audited as step.action_refused already
            await refuse_request(uow, signed.client_id, problem)
        raise
    return StepResultAnswer(request_id=result.request_id, step=step)
