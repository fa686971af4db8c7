"""What staff read about one dossier: its due times (the whole dossier's and each step's), and its
clock: the appointment the citizen was given, the pauses with the old and new appointment of each,
and the apologies. Each read is limited to the caller's scope in the query itself: a dossier out of
scope is not found, exactly like one that does not exist."""

from __future__ import annotations

from uuid import UUID

from deadline.application.ports import DeadlineUnitOfWork
from deadline.schemas import ApologyPublic, ClockPublic, DeadlinePublic, PausePublic
from services.identity import Scope
from services.problems import not_found


async def get_deadlines(uow: DeadlineUnitOfWork, dossier_id: UUID, scope: Scope) -> list[DeadlinePublic]:
    async with uow.read() as work:
        rows = await work.deadlines.deadlines_of(dossier_id, scope)
    if not rows:
        raise not_found(f"no deadlines for dossier {dossier_id}")
    return [DeadlinePublic.model_validate(row) for row in rows]


async def get_clock(uow: DeadlineUnitOfWork, dossier_id: UUID, scope: Scope) -> ClockPublic:
    async with uow.read() as work:
        dossier = await work.deadlines.get_dossier(dossier_id, scope)
        if dossier is None:
            raise not_found(f"dossier {dossier_id} is not tracked")
        pauses = await work.deadlines.pauses_of(dossier_id)
        apologies = await work.deadlines.apologies_of(dossier_id)
    return ClockPublic(
        dossier_id=dossier["dossier_id"],
        dossier_code=dossier["dossier_code"],
        state=dossier["state"],
        paused_status=dossier["paused_status"],
        due_at=dossier["due_at"],
        appointment_at=dossier["appointment_at"],
        ended_at=dossier["ended_at"],
        outcome=dossier["outcome"],
        pauses=[PausePublic.model_validate(p) for p in pauses],
        apologies=[ApologyPublic.model_validate(a) for a in apologies],
    )
