"""What the counter (or the citizen through it) does to a received dossier: ask for a supplement
(form 2), record the supplement handed in, refuse (form 3), record a withdrawal, the result
returned and the citizen's rating. Each locks the dossier, checks the command is legal in its
status (409 otherwise), applies it, announces it and adds it to the timeline, in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from intake.application.ports import IntakeUnitOfWork, IntakeWork
from intake.domain import timeline
from intake.domain.lifecycle import Command, IllegalTransition, State, apply_command
from intake.schemas import RefusalForm, ReturnMethod, SupplementRequestForm
from services.events import Event
from services.events.schemas import (
    DossierRated,
    DossierRefused,
    DossierWithdrawn,
    ResultReturned,
    SupplementReceived,
    SupplementRequested,
)
from services.problems import Problem, field_error, invalid, not_found
from services.vocabulary import PortalStatus


@dataclass(frozen=True)
class Effect:
    """What a command does besides moving the status: the event, the timeline note, other columns."""

    event: Event
    note: timeline.Note
    changes: dict[str, Any] = field(default_factory=dict)


Apply = Callable[[IntakeWork, dict[str, Any], datetime], Awaitable[Effect]]


def illegal(command: Command, current: PortalStatus) -> Problem:
    return Problem(
        409,
        "Illegal transition",
        f"cannot {command.value.replace('_', ' ')}: the dossier is in status {int(current)} ({current.label})",
        type="illegal-transition",
        current_status=int(current),
        current_status_label=current.label,
    )


async def _transition(uow: IntakeUnitOfWork, dossier_id: UUID, command: Command, apply: Apply) -> dict[str, Any]:
    async with uow() as work:
        row = await work.dossiers.lock(dossier_id)
        if row is None:
            raise not_found(f"no dossier {dossier_id}")
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
        effect = await apply(work, row, now)
        changes = effect.changes | {
            "status": int(after.status),
            "resume_status": int(after.resume_status) if after.resume_status else None,
            "updated_at": now,
        }
        await work.dossiers.update(dossier_id, changes)
        envelope = await work.events.emit(effect.event, dossier_id=str(dossier_id))
        note = effect.note
        await work.dossiers.add_timeline(
            dossier_id, at=now, kind=note.kind, label=note.label, detail=note.detail, event_id=envelope.event_id
        )
        return {**row, **changes}


async def request_supplement(
    uow: IntakeUnitOfWork, dossier_id: UUID, items: list[str], reason: str | None
) -> SupplementRequestForm:
    """Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (form 2): every missing item at once; status 5, the clock pauses."""

    async def apply(work: IntakeWork, row: dict[str, Any], now: datetime) -> Effect:
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
        return Effect(event, timeline.supplement_requested_note(items))

    row = await _transition(uow, dossier_id, Command.REQUEST_SUPPLEMENT, apply)
    status = PortalStatus(row["status"])
    return SupplementRequestForm(
        dossier_code=row["code"],
        applicant_name=row["applicant_name"],
        procedure_name=row["procedure_name"],
        requested_by="counter",
        items=items,
        reason=reason,
        requested_at=row["updated_at"],
        appointment_before=row["appointment_at"],
        status=status,
        status_label=status.label,
    )


async def receive_supplement(uow: IntakeUnitOfWork, dossier_id: UUID, items: list[str]) -> None:
    """The citizen handed in what was asked for: handling (and the clock) resumes."""

    async def apply(work: IntakeWork, row: dict[str, Any], now: datetime) -> Effect:
        open_request = await work.dossiers.open_supplement_request(row["id"])
        if open_request is not None:
            await work.dossiers.supplement_handed_in(open_request["id"], now, items)
        return Effect(SupplementReceived(received_at=now, items=items), timeline.supplement_received_note(items))

    await _transition(uow, dossier_id, Command.RECEIVE_SUPPLEMENT, apply)


async def refuse_dossier(uow: IntakeUnitOfWork, dossier_id: UUID, reason: str) -> RefusalForm:
    """Phiếu từ chối tiếp nhận giải quyết hồ sơ (form 3), with the reason: status 3."""

    async def apply(work: IntakeWork, row: dict[str, Any], now: datetime) -> Effect:
        event = DossierRefused(refused_by="counter", reason=reason, refused_at=now)
        return Effect(event, timeline.refused_note(reason), {"closing_reason": reason})

    row = await _transition(uow, dossier_id, Command.REFUSE, apply)
    status = PortalStatus(row["status"])
    return RefusalForm(
        dossier_code=row["code"],
        applicant_name=row["applicant_name"],
        procedure_name=row["procedure_name"],
        reason=reason,
        refused_at=row["updated_at"],
        status=status,
        status_label=status.label,
    )


async def withdraw_dossier(uow: IntakeUnitOfWork, dossier_id: UUID, reason: str | None) -> None:
    """The citizen withdraws the dossier: status 7."""

    async def apply(work: IntakeWork, row: dict[str, Any], now: datetime) -> Effect:
        return Effect(
            DossierWithdrawn(reason=reason, withdrawn_at=now), timeline.withdrawn_note(reason), {"closing_reason": reason}
        )

    await _transition(uow, dossier_id, Command.WITHDRAW, apply)


async def return_result(uow: IntakeUnitOfWork, dossier_id: UUID, method: ReturnMethod, returned_at: datetime | None) -> None:
    """The result was handed over (at the counter, by post or online): status 10."""

    async def apply(work: IntakeWork, row: dict[str, Any], now: datetime) -> Effect:
        at = returned_at or now
        if at > now or at < row["received_at"]:
            raise invalid([field_error("returned_at", "must lie between receipt and now", "out_of_range")])
        event = ResultReturned(returned_at=at, method=method)
        return Effect(event, timeline.returned_note(method, at), {"returned_at": at, "return_method": method})

    await _transition(uow, dossier_id, Command.RETURN_RESULT, apply)


async def rate_dossier(uow: IntakeUnitOfWork, dossier_id: UUID, score: int, comment: str | None) -> None:
    """The citizen's satisfaction rating, once, after the result was returned."""

    async def apply(work: IntakeWork, row: dict[str, Any], now: datetime) -> Effect:
        event = DossierRated(score=score, comment=comment, rated_at=now)
        return Effect(event, timeline.rated_note(score), {"rating": score, "rating_comment": comment})

    await _transition(uow, dossier_id, Command.RATE, apply)
