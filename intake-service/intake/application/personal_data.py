"""A citizen's rights over their personal data, intake's side (Decree 13/2023, art. 14–16): an
operator asks for everything held about a citizen id (export) or for it to be erased. Intake
finds the citizen's dossiers by the blind index of the id (the id itself is not kept), does its own
part at once, and asks routing, deadline and notify to do theirs with one `personal_data.requested`
per dossier, in the same transaction; their `personal_data.answered` are recorded as they come.

An erasure touches only dossiers whose procedure ended (result returned, withdrawn, refused); one
still in progress is kept and listed with the reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from intake.application.ports import IntakeUnitOfWork, IntakeWork
from intake.domain.personal_data import complete as all_answered
from intake.domain.personal_data import erasable, new_request_id, valid_citizen_id
from intake.schemas import KeptDossier, PersonalDataRequestPublic, PersonalDataRequestSummary
from services.events import Envelope, parse
from services.events.envelope import current_actor
from services.events.schemas import PersonalDataAnswered, PersonalDataRequested
from services.identity import Principal
from services.personal_data.requests import count
from services.problems import field_error, invalid, not_found


async def request_personal_data(
    uow: IntakeUnitOfWork, by: Principal, citizen_id: str, kind: Literal["export", "erasure"], now: datetime | None = None
) -> PersonalDataRequestPublic:
    """Record the request, do intake's part for each dossier and ask the other services for theirs;
    422 naming `citizen_id` when it is not 12 digits (the value is not repeated)."""
    if not valid_citizen_id(citizen_id):
        raise invalid([field_error("citizen_id", "a citizen id (CCCD) is 12 digits", "citizen_id")])
    requested_at = now or datetime.now(UTC)
    request_id = new_request_id()
    async with uow() as work:
        index = work.dossiers.citizen_index(citizen_id.strip())
        acted: list[dict[str, Any]] = []
        kept: list[dict[str, Any]] = []
        for dossier in await work.dossiers.of_citizen(index):
            allowed, reason = erasable(dossier["status"]) if kind == "erasure" else (True, None)
            if allowed:
                acted.append(dossier)
            else:
                kept.append({"dossier_id": str(dossier["id"]), "code": dossier["code"], "reason": reason})
        answers: dict[str, dict[str, int]] = {}
        for dossier in acted:
            dossier_id = str(dossier["id"])
            if kind == "export":
                held = await work.dossiers.held(dossier["id"])
                records = count(held)
                await work.dossiers.record_part(request_id, kind, dossier_id, held, records)
            else:
                records = await work.dossiers.erase_applicant(dossier["id"])
                await work.dossiers.record_part(request_id, kind, dossier_id, None, records)
            answers[dossier_id] = {"intake": records}
            event = PersonalDataRequested(request_id=request_id, kind=kind, requested_at=requested_at)
            await work.events.emit(event, dossier_id=dossier_id)
        await work.dossiers.add_personal_data_request(
            request_id,
            kind=kind,
            citizen_index=index,
            requested_at=requested_at,
            requester=current_actor.get() or by.actor,
            dossier_ids=[str(d["id"]) for d in acted],
            kept=kept,
            answers=answers,
        )
        public = await _public(work, request_id)
        if public.held:  # intake's part is answered opened: a read of personal data
            await work.audit.read("personal_data_export", list(public.held), request_id=request_id)
    return public


async def read_personal_data_request(uow: IntakeUnitOfWork, request_id: str) -> PersonalDataRequestPublic:
    """The request, who answered it, and intake's own part opened (the read audited); 404 unknown."""
    async with uow() as work:
        public = await _public(work, request_id)
        if public.held:
            await work.audit.read("personal_data_export", list(public.held), request_id=request_id)
    return public


async def list_personal_data_requests(uow: IntakeUnitOfWork, limit: int = 50) -> list[PersonalDataRequestSummary]:
    """The newest requests first, with counts only: the list names no citizen and opens nothing."""
    async with uow() as work:
        rows = await work.dossiers.recent_personal_data_requests(limit)
    return [
        PersonalDataRequestSummary(
            id=row["id"],
            kind=row["kind"],
            requested_at=row["requested_at"],
            requested_by=(row["requester"] or {}).get("name"),
            dossiers=len(row["dossier_ids"]),
            kept=len(row["kept"]),
            complete=all_answered(row["answers"]),
        )
        for row in rows
    ]


async def _public(work: IntakeWork, request_id: str) -> PersonalDataRequestPublic:
    row = await work.dossiers.personal_data_request(request_id)
    if row is None:
        raise not_found(f"no personal data request {request_id}")
    parts = await work.dossiers.parts(request_id)
    return PersonalDataRequestPublic(
        id=row["id"],
        kind=row["kind"],
        requested_at=row["requested_at"],
        requested_by=(row["requester"] or {}).get("name"),
        dossiers=row["dossier_ids"],
        codes=await work.dossiers.codes_of([*row["dossier_ids"], *(k["dossier_id"] for k in row["kept"])]),
        kept=[KeptDossier.model_validate(k) for k in row["kept"]],
        answers=row["answers"],
        complete=all_answered(row["answers"]),
        held={p.dossier_id: p.held for p in parts if p.kind == "export"},
    )


async def record_answer(work: IntakeWork, envelope: Envelope) -> None:
    """Routing's, deadline's or notify's answer for one dossier of a request (counts only)."""
    answer = parse(envelope, PersonalDataAnswered)
    await work.dossiers.record_answer(answer.request_id, envelope.dossier_id, answer.service, answer.records)
