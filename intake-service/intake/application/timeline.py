"""Intake keeps each dossier's citizen-facing status (national codes 1–10) and timeline from the
other services' events, so that one place answers "where is my dossier"."""

from __future__ import annotations

from uuid import UUID

from intake.application.ports import IntakeWork
from intake.domain.lifecycle import State, apply_event
from intake.domain.timeline import EVENT_TYPES, describe
from services.events import Envelope, parse
from services.events import schemas as ev
from services.vocabulary import PortalStatus


async def record_event(work: IntakeWork, envelope: Envelope) -> None:
    """Apply one event of routing, deadline or notify to the dossier's status and timeline."""
    event = parse(envelope, EVENT_TYPES[envelope.type])
    dossier_id = UUID(envelope.dossier_id)
    row = await work.dossiers.lock_for_event(dossier_id)
    if row is None:  # dead-lettered, to be replayed once the cause is known
        raise LookupError(f"intake has no dossier {dossier_id}")
    note = describe(event, row)
    before = State(PortalStatus(row["status"]), PortalStatus(row["resume_status"]) if row["resume_status"] else None)
    after = apply_event(before, envelope.type)
    changes = dict(note.changes)
    if after != before:
        changes |= {"status": int(after.status), "resume_status": int(after.resume_status) if after.resume_status else None}
    if changes:
        await work.dossiers.update(dossier_id, {**changes, "updated_at": envelope.occurred_at})
    if isinstance(event, ev.ClockResumed):
        await work.dossiers.set_new_appointment(dossier_id, event.new_appointment_at)
    if isinstance(event, ev.SupplementRequested) and after.status is PortalStatus.SUPPLEMENT_REQUESTED:
        await work.dossiers.add_supplement_request(
            dossier_id,
            {
                "requested_by": event.requested_by,
                "step_id": event.step_id,
                "items": event.items,
                "reason": event.reason,
                "requested_at": event.requested_at,
                "appointment_before": row["appointment_at"],
            },
        )
    await work.dossiers.add_timeline(
        dossier_id,
        at=envelope.occurred_at,
        kind=note.kind,
        label=note.label,
        detail=note.detail,
        event_id=envelope.event_id,
        public=note.public,
    )
