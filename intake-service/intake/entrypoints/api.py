"""Intake's REST API: receive a dossier, read it back with its timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from fastapi import APIRouter, status
from sqlalchemy import insert, select, text

from intake.adapters.tables import code_sequences, dossiers, timeline
from intake.domain.catalogue import load_catalogue
from intake.domain.dossier import STATUS_LABELS_VI, PortalStatus, dossier_code
from intake.entrypoints.schemas import DossierCreate, DossierPublic, TimelineEntry
from services.calendar import VN_TZ, WorkingCalendar
from services.events.schemas import ApplicantContact, DossierReceived
from services.problems import Problem
from services.web import RuntimeDep

router = APIRouter(prefix="/dossiers", tags=["dossiers"])
calendar = WorkingCalendar()


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DossierPublic, summary="Receive a dossier (tiếp nhận hồ sơ)")
async def receive_dossier(body: DossierCreate, runtime: RuntimeDep) -> DossierPublic:
    catalogue = load_catalogue()
    procedure = catalogue.get(body.procedure_code)
    if procedure is None:
        raise Problem(
            422,
            "Invalid request",
            f"procedure_code: no active procedure {body.procedure_code!r} in catalogue {catalogue.version}",
            type="validation",
            errors=[{"field": "procedure_code", "message": "unknown procedure", "code": "unknown_procedure"}],
        )
    received_at = datetime.now(UTC)
    clock_starts_at = calendar.clock_start(received_at, procedure.cutoff)
    appointment_at = calendar.add_working_hours(clock_starts_at, procedure.budget_hours)
    dossier_id = uuid4()
    applicant = body.applicant
    async with runtime.sessionmaker() as session, session.begin():
        sequence = (
            await session.execute(
                text(
                    "INSERT INTO intake.code_sequences (unit_code, day, last) VALUES (:unit, :day, 1) "
                    "ON CONFLICT (unit_code, day) DO UPDATE SET last = code_sequences.last + 1 RETURNING last"
                ),
                {"unit": catalogue.receiving_unit, "day": received_at.astimezone(VN_TZ).date()},
            )
        ).scalar_one()
        code = dossier_code(catalogue.receiving_unit, received_at, sequence)
        await session.execute(
            insert(dossiers).values(
                id=dossier_id,
                code=code,
                procedure_code=procedure.code,
                procedure_name=procedure.name,
                catalogue_version=catalogue.version,
                receiving_unit=catalogue.receiving_unit,
                channel=body.channel,
                status=PortalStatus.ACCEPTED,
                applicant=applicant.model_dump(mode="json"),
                received_at=received_at,
                appointment_at=appointment_at,
                budget_hours=procedure.budget_hours,
            )
        )
        envelope = await runtime.outbox.emit(
            session,
            DossierReceived(
                dossier_code=code,
                procedure_code=procedure.code,
                procedure_name=procedure.name,
                catalogue_version=catalogue.version,
                receiving_unit=catalogue.receiving_unit,
                channel=body.channel,
                received_at=received_at,
                clock_starts_at=clock_starts_at,
                appointment_at=appointment_at,
                budget_hours=procedure.budget_hours,
                route=procedure.steps,
                applicant=ApplicantContact(
                    name=applicant.name,
                    phone=applicant.phone,
                    email=applicant.email,
                    notify_channels=applicant.notify_channels or ["console"],
                ),
            ),
            dossier_id=str(dossier_id),
        )
        entry = TimelineEntry(at=received_at, kind="received", label=STATUS_LABELS_VI[PortalStatus.ACCEPTED], detail={"code": code})
        await session.execute(insert(timeline).values(dossier_id=dossier_id, event_id=envelope.event_id, **entry.model_dump()))
    return DossierPublic(
        id=dossier_id,
        code=code,
        procedure_code=procedure.code,
        procedure_name=procedure.name,
        channel=body.channel,
        status=PortalStatus.ACCEPTED,
        status_label=STATUS_LABELS_VI[PortalStatus.ACCEPTED],
        received_at=received_at,
        appointment_at=appointment_at,
        timeline=[entry],
    )


@router.get("/{dossier_id}", response_model=DossierPublic, summary="A dossier with its timeline")
async def get_dossier(dossier_id: UUID, runtime: RuntimeDep) -> DossierPublic:
    async with runtime.sessionmaker() as session:
        row = (await session.execute(select(dossiers).where(dossiers.c.id == dossier_id))).mappings().first()
        if row is None:
            raise Problem(404, "Not found", f"no dossier {dossier_id}", type="not-found")
        entries = (
            await session.execute(
                select(timeline.c.at, timeline.c.kind, timeline.c.label, timeline.c.detail)
                .where(timeline.c.dossier_id == dossier_id)
                .order_by(timeline.c.at, timeline.c.id)
            )
        ).mappings().all()
    return DossierPublic(
        id=row["id"],
        code=row["code"],
        procedure_code=row["procedure_code"],
        procedure_name=row["procedure_name"],
        channel=row["channel"],
        status=row["status"],
        status_label=STATUS_LABELS_VI[PortalStatus(row["status"])],
        received_at=row["received_at"],
        appointment_at=row["appointment_at"],
        timeline=[TimelineEntry.model_validate(dict(e)) for e in entries],
    )
