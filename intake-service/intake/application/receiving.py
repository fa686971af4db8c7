"""Receiving a dossier (tiếp nhận hồ sơ): check it against its procedure and against who receives
it, give it its code and appointment, record it with who received it and its first timeline
entry and announce `dossier.received` (the applicant's name only) and, sealed for notify alone,
`dossier.contact_given`, all in one transaction. The applicant is stored sealed by the repository. The counter's and the portal's
`POST /dossiers` and the LGSP's `POST /lgsp/dossiers` all come here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import uuid4

from intake.application.acting import acting_as, officer_at
from intake.application.ports import ClaimStore, IntakeUnitOfWork, IntakeWork
from intake.domain.catalogue import Catalogue, Procedure, Unit
from intake.domain.dossier import dossier_code, new_secret
from intake.domain.receiving import Receiver, Submission, check_receiver, check_submission
from intake.domain.timeline import received_note
from intake.schemas import DossierCreate, DossierPublic, TimelineEntry
from services.calendar import WorkingCalendar
from services.events import Actor
from services.events.schemas import DossierReceived, SealedContact
from services.identity import Principal, Role
from services.problems import Problem, invalid
from services.vocabulary import VN_TZ, PortalStatus


@dataclass(frozen=True)
class Claim:
    """The key a request is received once under: an Idempotency-Key, or an LGSP delivery's nonce."""

    store: ClaimStore
    key: tuple[str, ...]


@dataclass(frozen=True)
class Received:
    body: str  # the DossierPublic as JSON, as first answered (kept so for a replay)
    replayed: bool


def receiver_of(principal: Principal) -> Receiver:
    """What the caller may receive: the province administrator anywhere, a counter officer at
    their units, the portal online dossiers anywhere, the LGSP anywhere (its route holds it to
    online dossiers); anyone else nothing."""
    if principal.has(Role.PROVINCE_ADMIN):
        return Receiver(anywhere=True)
    if principal.has(Role.COUNTER):
        return Receiver(units=principal.units)
    if principal.has(Role.PORTAL):
        return Receiver(anywhere=True, online_only=True)
    if principal.has(Role.LGSP):
        return Receiver(anywhere=True)
    return Receiver()


def check(catalogue: Catalogue, body: DossierCreate, receiver: Receiver) -> tuple[Procedure, Unit]:
    """The dossier's procedure and receiving unit; 422 naming every field at fault."""
    applicant = body.applicant
    unit_code, refused = check_receiver(receiver, body.channel, body.receiving_unit)
    if any(e.field == "receiving_unit" for e in refused):
        unit_code = None  # named once, as not the receiver's, not again as unknown
    procedure, errors = check_submission(
        catalogue,
        Submission(
            procedure_code=body.procedure_code,
            channel=body.channel,
            receiving_unit=unit_code,
            document_codes=[d.code for d in body.documents],
            applicant_kind=applicant.kind,
            citizen_id=applicant.citizen_id,
            tax_code=applicant.tax_code,
            phone=applicant.phone,
            email=applicant.email,
            notify_channels=applicant.notify_channels,
        ),
    )
    errors = refused + errors
    if errors or procedure is None:
        raise invalid(e.as_dict() for e in errors)
    unit = catalogue.unit(unit_code) if unit_code else catalogue.default_unit
    assert unit is not None  # check_submission names an unknown unit
    return procedure, unit


async def receive_dossier(
    uow: IntakeUnitOfWork,
    catalogue: Catalogue,
    calendar: WorkingCalendar,
    code_pattern: str,
    body: DossierCreate,
    by: Principal,
    claim: Claim | None = None,
    now: datetime | None = None,
) -> Received:
    """Receive the dossier once per claim: the same key with the same body from the same caller
    answers the first result (`replayed`); with another body, or from another caller (who must not
    learn a dossier, nor its secret, by guessing a key), `KeyReused`. One database connection per receipt."""
    procedure, unit = check(catalogue, body, receiver_of(by))
    request_hash = hashlib.sha256(f"{by.subject}\n{body.model_dump_json()}".encode()).hexdigest()
    received_at = now or datetime.now(UTC)
    with acting_as(officer_at(by.actor, unit.code)) as actor:
        async with uow() as work:
            if claim is not None and (first := await work.dossiers.answered(claim.store, claim.key, request_hash)) is not None:
                return Received(first, True)  # not worth a dossier number
            sequence = await work.dossiers.next_sequence(unit.code, received_at.astimezone(VN_TZ).date())
            if claim is not None and (first := await work.dossiers.claim(claim.store, claim.key, request_hash)) is not None:
                return Received(first, True)  # the same request, carried out meanwhile by another replica
            try:
                code = dossier_code(unit.code, received_at, sequence, code_pattern)
            except ValueError as exc:
                raise Problem(503, "Daily dossier codes exhausted", str(exc), type="codes-exhausted") from exc
            public = await _record(work, catalogue, calendar, procedure, unit, body, code, received_at, actor)
            answer = public.model_dump_json()
            if claim is not None:
                await work.dossiers.answer(claim.store, claim.key, answer, public.id)
    return Received(answer, False)


async def _record(
    work: IntakeWork,
    catalogue: Catalogue,
    calendar: WorkingCalendar,
    procedure: Procedure,
    unit: Unit,
    body: DossierCreate,
    code: str,
    received_at: datetime,
    by: Actor,
) -> DossierPublic:
    clock_starts_at = calendar.clock_start(received_at, procedure.cutoff)
    appointment_at = calendar.add_working_hours(clock_starts_at, procedure.budget_hours)
    dossier_id = uuid4()
    applicant = body.applicant
    secret = new_secret()
    handed_in = {d.code: d for d in body.documents}
    documents = [
        {"code": d.code, "name": d.name, "originals": handed_in[d.code].originals, "copies": handed_in[d.code].copies}
        for d in procedure.documents
        if d.code in handed_in
    ]
    await work.dossiers.add_dossier(
        dict(
            id=dossier_id,
            code=code,
            procedure_code=procedure.code,
            procedure_name=procedure.name,
            field_code=procedure.field,
            agency_code=procedure.competent_agency.code,
            catalogue_version=catalogue.version,
            procedure_snapshot={
                **procedure.model_dump(mode="json"),
                "field_name": catalogue.field_name(procedure.field),
                "unit_name": unit.name,
            },
            receiving_unit=unit.code,
            channel=body.channel,
            status=int(PortalStatus.ACCEPTED),
            applicant={**applicant.model_dump(mode="json"), "result_delivery": body.result_delivery},
            applicant_name=applicant.name,
            lookup_secret=secret,
            documents=documents,
            received_at=received_at,
            clock_starts_at=clock_starts_at,
            appointment_at=appointment_at,
            budget_hours=procedure.budget_hours,
            received_by_kind=by.kind,
            received_by_subject=by.subject,
            received_by_name=by.name,
            received_by_unit=by.unit,
        )
    )
    # The contact goes to notify alone, sealed, on intake's private stream, before the dossier.received
    # every service reads (which names the applicant only, as the national portal's sync needs).
    await work.contacts.give(
        SealedContact(
            name=applicant.name,
            phone=applicant.phone,
            email=applicant.email,
            notify_channels=applicant.notify_channels or ["console"],
            language=applicant.language,
            opt_out_non_essential=applicant.opt_out_non_essential,
            lookup_secret=secret,  # for the receipt notice's look-up link: an online applicant holds no paper receipt
        ),
        dossier_id=str(dossier_id),
    )
    envelope = await work.events.emit(
        DossierReceived(
            dossier_code=code,
            procedure_code=procedure.code,
            procedure_name=procedure.name,
            field_code=procedure.field,
            catalogue_version=catalogue.version,
            receiving_unit=unit.code,
            channel=body.channel,
            fully_online=procedure.fully_online and body.channel == 2,
            received_at=received_at,
            clock_starts_at=clock_starts_at,
            appointment_at=appointment_at,
            budget_hours=procedure.budget_hours,
            resume_rule=procedure.resume_rule,
            route=procedure.route,
            applicant_name=applicant.name,
        ),
        dossier_id=str(dossier_id),
    )
    note = received_note(code, by)
    entry = TimelineEntry(at=received_at, kind=note.kind, label=note.label, detail=note.detail)
    await work.dossiers.add_timeline(dossier_id, **entry.model_dump(), event_id=envelope.event_id)
    return DossierPublic(
        id=dossier_id,
        code=code,
        procedure_code=procedure.code,
        procedure_name=procedure.name,
        field_code=procedure.field,
        catalogue_version=catalogue.version,
        receiving_unit=unit.code,
        channel=body.channel,
        status=PortalStatus.ACCEPTED,
        status_label=PortalStatus.ACCEPTED.label,
        received_at=received_at,
        appointment_at=appointment_at,
        lookup_secret=secret,
        received_by=by,
        timeline=[entry],
    )
