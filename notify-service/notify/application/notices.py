"""Turning events into pending notices; the dispatcher sends them (see `dispatching.py`).

Recording a notice (unique per dossier, trigger event, channel and recipient) happens in the same
transaction as the inbox entry, so however often Kafka redelivers the event there is one notice.
The applicant's contact comes only with `dossier.received`; it is kept per dossier. An event
about a dossier whose receipt has not been seen yet (topics are read independently) is parked and
applied when the receipt arrives.

Both run under the dossier's lock (`parking.hold`), taken first: "is the contact known? if not,
park" is one step against "keep the contact, release what was parked". Without it, one replica
could park an event just after another released the dossier's parked events, and the citizen
would never be told."""

from __future__ import annotations

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
    DeadlineOverdue,
    DeadlineWarning,
    DossierReceived,
    DossierRefused,
    FeeRequested,
    ResultReturned,
    RouteCompleted,
    SupplementRequested,
)

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


async def remember_contact(work: NotifyWork, drafting: Drafting, envelope: Envelope) -> None:
    """`dossier.received`: keep the applicant's contact and choices, tell them of the receipt and
    appointment (form 1 with the e-mail) with the look-up link and secret, then apply the events
    that waited for it, in the order read. The secret goes into this notice only: it is not kept."""
    event = parse(envelope, DossierReceived)
    dossier_id = UUID(envelope.dossier_id)
    await work.parking.hold(envelope.dossier_id)
    a = event.applicant
    contact = Contact(a.name, a.phone, a.email, tuple(a.notify_channels), a.language, a.opt_out_non_essential)
    dossier = DossierContact(event.dossier_code, event.procedure_name, contact, event.receiving_unit)
    if not await work.notices.add_contact(dossier_id, dossier):
        dossier = await work.notices.contact(dossier_id) or dossier  # the contact kept first stands
    await queue_notice(work, drafting, envelope, dossier, lookup_secret=event.lookup_secret)
    for waiting in await work.parking.release(envelope.dossier_id):
        await after_receipt(work, drafting, waiting)


async def notify_citizen(work: NotifyWork, drafting: Drafting, envelope: Envelope) -> None:
    """Refusal, fee request, apology with the new date (form 4), result ready, result delivered."""
    parse(envelope, CITIZEN_EVENTS[envelope.type])  # a malformed payload fails here, before anything is recorded
    dossier = await _contact_or_park(work, envelope)
    if dossier is not None:
        await queue_notice(work, drafting, envelope, dossier)


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
    """An event that waited for the dossier's receipt, applied by the rule of its type."""
    if envelope.type in STAFF_ALERTS:
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
    """The dossier's contact, or None after parking the event until the receipt brings it."""
    await work.parking.hold(envelope.dossier_id)
    dossier = await work.notices.contact(UUID(envelope.dossier_id))
    if dossier is None:
        await work.parking.park(envelope)
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
