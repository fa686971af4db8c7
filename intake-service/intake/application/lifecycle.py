"""What the counter does to a received dossier: ask for a supplement (form 2), record the
supplement handed in, refuse (form 3), record a withdrawal and the result returned; and the
citizen's rating, proven with the dossier code and the secret on the receipt. Each locks the
dossier (a staff caller's only within their units: another unit's dossier is 404, as a missing one),
checks the command is legal in its status (409 otherwise), applies it, announces it and adds it to
the timeline naming who did it, in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from intake.application.acting import acting_as, citizen, officer_at
from intake.application.lookup import LookupLimit, count_attempt, proven
from intake.application.ports import IntakeUnitOfWork, IntakeWork
from intake.application.reading import no_dossier
from intake.domain import timeline
from intake.domain.lifecycle import Command, IllegalTransition, State, apply_command
from intake.schemas import RatingPublic, RefusalForm, ReturnMethod, SupplementRequestForm
from services.events import Actor, Event
from services.events.schemas import (
    DossierRated,
    DossierRefused,
    DossierWithdrawn,
    ResultReturned,
    SupplementReceived,
    SupplementRequested,
)
from services.identity import Principal
from services.problems import Problem, field_error, invalid
from services.vocabulary import PortalStatus


@dataclass(frozen=True)
class Effect:
    """What a command does besides moving the status: the event, the timeline note, other columns."""

    event: Event
    note: timeline.Note
    changes: dict[str, Any] = field(default_factory=dict)


Apply = Callable[[IntakeWork, dict[str, Any], datetime, Actor], Awaitable[Effect]]
Find = Callable[[IntakeWork], Awaitable[dict[str, Any]]]  # the dossier, locked; raises 404


def illegal(command: Command, current: PortalStatus) -> Problem:
    return Problem(
        409,
        "Illegal transition",
        f"cannot {command.value.replace('_', ' ')}: the dossier is in status {int(current)} ({current.label})",
        type="illegal-transition",
        current_status=int(current),
        current_status_label=current.label,
    )


async def _transition(
    uow: IntakeUnitOfWork, find: Find, command: Command, apply: Apply, actor: Callable[[dict[str, Any]], Actor]
) -> dict[str, Any]:
    async with uow() as work:
        row = await find(work)
        state = State(
            PortalStatus(row["status"]),
            PortalStatus(row["resume_status"]) if row["resume_status"] else None,
            row["rating"] is not None,
        )
        try:
            after = apply_command(state, command)
        except IllegalTransition:
            raise illegal(command, state.status) from None
        now = datetime.now(UTC)
        with acting_as(actor(row)) as by:
            effect = await apply(work, row, now, by)
            changes = effect.changes | {
                "status": int(after.status),
                "resume_status": int(after.resume_status) if after.resume_status else None,
                "updated_at": now,
            }
            await work.dossiers.update(row["id"], changes)
            envelope = await work.events.emit(effect.event, dossier_id=str(row["id"]))
        note = effect.note
        await work.dossiers.add_timeline(
            row["id"], at=now, kind=note.kind, label=note.label, detail=note.detail, event_id=envelope.event_id
        )
        return {**row, **changes, "by": by}


async def _by_officer(uow: IntakeUnitOfWork, by: Principal, dossier_id: UUID, command: Command, apply: Apply) -> dict[str, Any]:
    """A counter command: on a dossier of the caller's units only, done by the caller for that unit."""

    async def find(work: IntakeWork) -> dict[str, Any]:
        row = await work.dossiers.lock(dossier_id, by.scope)
        if row is None:
            raise no_dossier(dossier_id)
        return row

    return await _transition(uow, find, command, apply, lambda row: officer_at(by.actor, row["receiving_unit"]))


async def request_supplement(
    uow: IntakeUnitOfWork, by: Principal, dossier_id: UUID, items: list[str], reason: str | None
) -> SupplementRequestForm:
    """Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (form 2): every missing item at once; status 5, the clock pauses."""

    async def apply(work: IntakeWork, row: dict[str, Any], now: datetime, officer: Actor) -> Effect:
        await work.dossiers.add_supplement_request(
            row["id"],
            {
                "requested_by": "counter",
                "items": items,
                "reason": reason,
                "requested_at": now,
                "appointment_before": row["appointment_at"],
            },
        )
        event = SupplementRequested(requested_by="counter", items=items, reason=reason, requested_at=now)
        return Effect(event, timeline.supplement_requested_note(items, officer))

    row = await _by_officer(uow, by, dossier_id, Command.REQUEST_SUPPLEMENT, apply)
    status = PortalStatus(row["status"])
    return SupplementRequestForm(
        dossier_code=row["code"],
        applicant_name=row["applicant_name"],
        procedure_name=row["procedure_name"],
        requested_by="counter",
        officer=row["by"].name,
        items=items,
        reason=reason,
        requested_at=row["updated_at"],
        appointment_before=row["appointment_at"],
        status=status,
        status_label=status.label,
    )


async def receive_supplement(uow: IntakeUnitOfWork, by: Principal, dossier_id: UUID, items: list[str]) -> None:
    """The citizen handed in what was asked for, at the counter: handling (and the clock) resumes."""

    async def apply(work: IntakeWork, row: dict[str, Any], now: datetime, officer: Actor) -> Effect:
        open_request = await work.dossiers.open_supplement_request(row["id"])
        if open_request is not None:
            await work.dossiers.supplement_handed_in(open_request["id"], now, items)
        return Effect(SupplementReceived(received_at=now, items=items), timeline.supplement_received_note(items, officer))

    await _by_officer(uow, by, dossier_id, Command.RECEIVE_SUPPLEMENT, apply)


async def refuse_dossier(uow: IntakeUnitOfWork, by: Principal, dossier_id: UUID, reason: str) -> RefusalForm:
    """Phiếu từ chối tiếp nhận giải quyết hồ sơ (form 3), with the reason: status 3."""

    async def apply(work: IntakeWork, row: dict[str, Any], now: datetime, officer: Actor) -> Effect:
        event = DossierRefused(refused_by="counter", reason=reason, refused_at=now)
        return Effect(event, timeline.refused_note(reason, officer), {"closing_reason": reason})

    row = await _by_officer(uow, by, dossier_id, Command.REFUSE, apply)
    status = PortalStatus(row["status"])
    return RefusalForm(
        dossier_code=row["code"],
        applicant_name=row["applicant_name"],
        procedure_name=row["procedure_name"],
        reason=reason,
        officer=row["by"].name,
        refused_at=row["updated_at"],
        status=status,
        status_label=status.label,
    )


async def withdraw_dossier(uow: IntakeUnitOfWork, by: Principal, dossier_id: UUID, reason: str | None) -> None:
    """The citizen withdraws the dossier, at the counter: status 7."""

    async def apply(work: IntakeWork, row: dict[str, Any], now: datetime, officer: Actor) -> Effect:
        return Effect(
            DossierWithdrawn(reason=reason, withdrawn_at=now),
            timeline.withdrawn_note(reason, officer),
            {"closing_reason": reason},
        )

    await _by_officer(uow, by, dossier_id, Command.WITHDRAW, apply)


async def return_result(
    uow: IntakeUnitOfWork, by: Principal, dossier_id: UUID, method: ReturnMethod, returned_at: datetime | None
) -> None:
    """The result was handed over (at the counter, by post or online): status 10."""

    async def apply(work: IntakeWork, row: dict[str, Any], now: datetime, officer: Actor) -> Effect:
        at = returned_at or now
        if at > now or at < row["received_at"]:
            raise invalid([field_error("returned_at", "must lie between receipt and now", "out_of_range")])
        event = ResultReturned(returned_at=at, method=method)
        return Effect(event, timeline.returned_note(method, at, officer), {"returned_at": at, "return_method": method})

    await _by_officer(uow, by, dossier_id, Command.RETURN_RESULT, apply)


async def rate_dossier(
    uow: IntakeUnitOfWork, limit: LookupLimit, client: str, code: str, secret: str, score: int, comment: str | None
) -> RatingPublic:
    """The citizen's satisfaction rating, once, after the result was returned, proven with the
    dossier code and the receipt's secret: a wrong secret is 404 as an unknown code, changes
    nothing, and counts against the client's look-up limit (`TooManyLookups`)."""
    await count_attempt(uow, limit, client)

    async def find(work: IntakeWork) -> dict[str, Any]:
        return await proven(work, code, secret, lock=True)

    async def apply(work: IntakeWork, row: dict[str, Any], now: datetime, applicant: Actor) -> Effect:
        event = DossierRated(score=score, comment=comment, rated_at=now)
        return Effect(event, timeline.rated_note(score, applicant), {"rating": score, "rating_comment": comment})

    row = await _transition(uow, find, Command.RATE, apply, citizen)
    return RatingPublic(code=row["code"], score=score, comment=comment, rated_at=row["updated_at"])
