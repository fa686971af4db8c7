"""Turning events into pending notices; the dispatcher sends them (see `dispatching.py`).

Recording a notice (unique per dossier, trigger event, channel and recipient) happens in the same
transaction as the inbox entry, so however often Kafka redelivers the event there is one notice.

A notice needs two things that travel apart: the applicant's contact, sealed, on intake's private
stream (`dossier.contact_given`, which notify alone reads), and the dossier's receipt
(`dossier.received`: code, procedure, receiving unit, appointment). Topics are read independently,
so either may come first. The contact is kept when it comes; a receipt read before it is parked
(without the applicant's name), and so is any other event about a dossier whose receipt and
contact are not both known yet. Whichever of the two comes second drafts the receipt notice and
applies what was parked, in the order read. (`dossier.received` written before contacts travelled
apart carries the contact itself, and still works alone.)

Each step runs under the dossier's lock (`parking.hold`), taken first: "is the contact known? if
not, park" is one step against "keep the contact, release what was parked". Without it, one
replica could park an event just after another released the dossier's parked events, and the
citizen would never be told."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from notify.application.ports import Drafting, NewNotice, NotifyWork
from notify.domain.lookup_link import lookup_link
from notify.domain.policy import (
    TRIGGERS,
    Contact,
    DossierContact,
    Trigger,
    announces_supplement_request,
    mask,
    recipients,
    staff_for,
    suppressed,
)
from services.events import Envelope, Event, parse
from services.events.schemas import (
    ApologyIssued,
    ContactGiven,
    DeadlineOverdue,
    DeadlineWarning,
    DossierReceived,
    DossierRefused,
    DossierWithdrawn,
    FeeRequested,
    ResultReturned,
    RouteCompleted,
    SealedContact,
    SupplementRequested,
)
from services.personal_data.keys import KeyRing
from services.personal_data.rings import CONTACT_PURPOSE

# Told to the citizen as they come (the supplement request has a rule of its own).
CITIZEN_EVENTS: dict[str, type[Event]] = {
    e.event_type: e for e in (DossierRefused, FeeRequested, ApologyIssued, RouteCompleted, ResultReturned)
}
# Told to the responsible agency's staff.
STAFF_ALERTS: dict[str, type[DeadlineWarning] | type[DeadlineOverdue]] = {
    DeadlineWarning.event_type: DeadlineWarning,
    DeadlineOverdue.event_type: DeadlineOverdue,
}
COUNTER_STAFF = "Bộ phận tiếp nhận và trả kết quả"  # who is addressed when no agency is named
# The dossier is over for notify: the contact's retention counts from then.
ENDINGS = {
    ResultReturned.event_type: "returned_at",
    DossierRefused.event_type: "refused_at",
    DossierWithdrawn.event_type: "withdrawn_at",
}
# What a parked receipt leaves out: personal data never waits in clear (the contact has the name).
_NOT_PARKED = ("applicant", "applicant_name", "lookup_secret")


async def remember_receipt(work: NotifyWork, drafting: Drafting, envelope: Envelope) -> None:
    """`dossier.received`: keep the dossier's code, procedure and receiving unit and, once the
    contact is known, tell the applicant of the receipt and appointment (form 1 with the e-mail)
    with the look-up link and secret, then apply the events that waited. Before the contact is
    known, the receipt waits for it (parked without personal data)."""
    event = parse(envelope, DossierReceived)
    dossier_id = UUID(envelope.dossier_id)
    await work.parking.hold(envelope.dossier_id)
    if event.applicant is not None:  # written before contacts travelled apart: the contact is here
        a = event.applicant
        contact = Contact(a.name, a.phone, a.email, tuple(a.notify_channels), a.language, a.opt_out_non_essential)
        await work.notices.add_contact(dossier_id, contact, event.lookup_secret)
    kept = await work.notices.contact(dossier_id)
    if kept is None:
        payload = {k: v for k, v in envelope.payload.items() if k not in _NOT_PARKED}
        await work.parking.park(envelope.model_copy(update={"payload": payload}))
        return
    if not kept.complete:
        await work.notices.add_receipt(dossier_id, event.dossier_code, event.procedure_name, event.receiving_unit)
        kept = replace(kept, code=event.dossier_code, procedure_name=event.procedure_name, receiving_unit=event.receiving_unit)
    # The secret goes into this notice only: it is not kept after.
    await queue_notice(work, drafting, envelope, kept, lookup_secret=kept.lookup_secret)
    await work.notices.forget_lookup_secret(dossier_id)
    for waiting in await work.parking.release(envelope.dossier_id):
        await after_receipt(work, drafting, waiting)


async def remember_contact(work: NotifyWork, drafting: Drafting, envelope: Envelope, contact_keys: KeyRing) -> None:
    """`dossier.contact_given`: open the applicant's contact (sealed by intake for notify), keep it
    sealed under notify's own keys, and apply what waited for it (the receipt first, if it was
    read already). A contact given again for the same dossier changes nothing."""
    event = parse(envelope, ContactGiven)
    given = SealedContact.model_validate(contact_keys.open_json(event.contact, purpose=CONTACT_PURPOSE))
    contact = Contact(
        given.name, given.phone, given.email, tuple(given.notify_channels), given.language, given.opt_out_non_essential
    )
    await work.parking.hold(envelope.dossier_id)
    if not await work.notices.add_contact(UUID(envelope.dossier_id), contact, given.lookup_secret):
        return
    for waiting in await work.parking.release(envelope.dossier_id):
        await after_receipt(work, drafting, waiting)


async def note_end(work: NotifyWork, drafting: Drafting, envelope: Envelope) -> None:
    """The dossier ended (withdrawn; a refusal or the result returned also tell the citizen): from
    then on its contact is kept `RETENTION_CONTACT_DAYS` only. Before the contact is known, parked."""
    await work.parking.hold(envelope.dossier_id)
    if not await work.notices.mark_ended(UUID(envelope.dossier_id), _ended_at(envelope)):
        await work.parking.park(envelope)


def _ended_at(envelope: Envelope) -> datetime:
    field_name = ENDINGS.get(envelope.type)
    raw = envelope.payload.get(field_name) if field_name else None
    return datetime.fromisoformat(raw) if isinstance(raw, str) else envelope.occurred_at


async def notify_citizen(work: NotifyWork, drafting: Drafting, envelope: Envelope) -> None:
    """Refusal, fee request, apology with the new date (form 4), result ready, result delivered."""
    parse(envelope, CITIZEN_EVENTS[envelope.type])  # a malformed payload fails here, before anything is recorded
    dossier = await _contact_or_park(work, envelope)
    if dossier is not None:
        await queue_notice(work, drafting, envelope, dossier)
        if envelope.type in ENDINGS:
            await work.notices.mark_ended(UUID(envelope.dossier_id), _ended_at(envelope))


async def notify_supplement_request(work: NotifyWork, drafting: Drafting, envelope: Envelope) -> None:
    """Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (form 2), the counter's or an agency's: to the
    citizen once, from the service that announces it (not again from the other's echo)."""
    event = parse(envelope, SupplementRequested)
    if not announces_supplement_request(envelope.producer, event.requested_by):
        return
    dossier = await _contact_or_park(work, envelope)
    if dossier is not None:
        await queue_notice(work, drafting, envelope, dossier)


async def alert_staff(work: NotifyWork, drafting: Drafting, envelope: Envelope) -> None:
    """A due time near (sắp đến hạn) or passed (quá hạn): to the responsible agency's staff."""
    event = parse(envelope, STAFF_ALERTS[envelope.type])
    dossier = await _contact_or_park(work, envelope)
    if dossier is not None:
        agency_name = event.agency_name if isinstance(event, DeadlineOverdue) else None
        await queue_notice(work, drafting, envelope, dossier, agency_code=event.agency_code, agency_name=agency_name)


async def after_receipt(work: NotifyWork, drafting: Drafting, envelope: Envelope) -> None:
    """An event that waited for the dossier's receipt or contact, applied by the rule of its type."""
    if envelope.type == DossierReceived.event_type:
        await remember_receipt(work, drafting, envelope)
    elif envelope.type == DossierWithdrawn.event_type:
        await note_end(work, drafting, envelope)
    elif envelope.type in STAFF_ALERTS:
        await alert_staff(work, drafting, envelope)
    elif envelope.type == SupplementRequested.event_type:
        await notify_supplement_request(work, drafting, envelope)
    else:
        await notify_citizen(work, drafting, envelope)


async def queue_notice(
    work: NotifyWork,
    drafting: Drafting,
    cause: Envelope,
    dossier: DossierContact,
    *,
    agency_code: str | None = None,
    agency_name: str | None = None,
    lookup_secret: str | None = None,
) -> None:
    """The notices an event gives rise to, pending for the dispatcher: to the citizen on each
    channel they chose (recorded as skipped if they opted out of a notice the law does not
    require), or by e-mail to the staff listed for the agency. With the look-up secret (the
    receipt), the citizen's link opens the dossier; `tracking_url` is the link without it."""
    trigger = TRIGGERS[cause.type]
    assert dossier.code is not None, "notices are drafted once the receipt is known"
    context: dict[str, Any] = {
        "dossier": {
            "code": dossier.code,
            "procedure_name": dossier.procedure_name,
            "applicant_name": dossier.contact.name,
            "lookup_url": lookup_link(
                drafting.lookup_url, dossier.code, lookup_secret if trigger.audience == "citizen" else None
            ),
            "tracking_url": lookup_link(drafting.lookup_url, dossier.code),
            "lookup_secret": lookup_secret if trigger.audience == "citizen" else None,
        },
        "event": cause.payload,
    }
    if trigger.audience == "staff":
        context["agency"] = {"code": agency_code or "*", "name": agency_name or agency_code or COUNTER_STAFF}
        drafted = [
            _draft(drafting, cause, trigger, "email", address, context, "vi", skipped=False)
            for address in staff_for(drafting.staff, agency_code)
        ]
    else:
        contact = dossier.contact
        skipped = suppressed(trigger, contact)
        drafted = [
            _draft(drafting, cause, trigger, channel, address, context, contact.language, skipped=skipped)
            for channel, address in recipients(contact)
        ]
    if drafted:
        await work.notices.add_notices(drafted)


async def _contact_or_park(work: NotifyWork, envelope: Envelope) -> DossierContact | None:
    """The dossier's contact, or None after parking the event until the receipt and the contact are both known."""
    await work.parking.hold(envelope.dossier_id)
    dossier = await work.notices.contact(UUID(envelope.dossier_id))
    if dossier is None or not dossier.complete:
        await work.parking.park(envelope)
        return None
    return dossier


def _draft(
    drafting: Drafting,
    cause: Envelope,
    trigger: Trigger,
    channel: str,
    recipient: str,
    context: dict[str, Any],
    language: str,
    *,
    skipped: bool,
) -> NewNotice:
    message = drafting.composer.compose(trigger, channel, context, language)
    return NewNotice(
        id=uuid4(),
        dossier_id=UUID(cause.dossier_id),
        trigger=cause.type,
        trigger_event_id=cause.event_id,
        channel=channel,
        recipient=recipient,
        recipient_masked=mask(recipient),
        language=language,
        status="skipped" if skipped else "pending",
        body=message.body,
        subject=message.subject,
        html_body=message.html,
        attachment_name=message.attachment_name,
        attachment=message.attachment,
        last_error="the citizen opted out of non-essential notices" if skipped else None,
    )
