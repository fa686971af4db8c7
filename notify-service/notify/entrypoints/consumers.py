"""Notify turns events into pending notices; the dispatcher sends them (see dispatcher.py).

Recording a notice (unique per dossier, trigger event, channel and recipient) happens in the same
transaction as the inbox entry, so however often Kafka redelivers the event there is one notice.
The applicant's contact comes only with `dossier.received`; it is kept in `contacts`. An event
about a dossier whose receipt has not been seen yet (topics are read independently) is parked and
applied when the receipt arrives."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.staff import load_staff_directory, staff_for
from notify.adapters.tables import contacts, notices, parked_events
from notify.domain.messages import render_email, render_sms
from notify.domain.policy import TRIGGERS, Contact, Trigger, mask, recipients, suppressed
from notify.settings import NotifySettings
from services.db import driver_connection, insert_row
from services.events import Envelope, parse
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
from services.messaging import Handler, Subscription
from services.runtime import Runtime


class Notifier:
    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self.staff = load_staff_directory(settings.agency_staff_file)

    # ------------------------------------------------------------------ recording

    async def _record(
        self,
        session: AsyncSession,
        cause: Envelope,
        trigger: Trigger,
        channel: str,
        recipient: str,
        context: dict[str, Any],
        language: str,
        skipped: bool,
    ) -> None:
        values: dict[str, Any] = {
            "id": uuid4(),
            "dossier_id": UUID(cause.dossier_id),
            "trigger": cause.type,
            "trigger_event_id": cause.event_id,
            "channel": channel,
            "recipient": recipient,
            "recipient_masked": mask(recipient),
            "language": language,
            "status": "skipped" if skipped else "pending",
        }
        if skipped:
            values["last_error"] = "the citizen opted out of non-essential notices"
        if channel == "sms":
            values["body"] = render_sms(
                trigger.template,
                context,
                language=language,
                limit=self.settings.sms_max_chars,
                forbidden=self.settings.sms_forbidden_chars,
            )
        else:
            email = render_email(trigger.template, context, language=language, form=trigger.form)
            values.update(body=email.text, subject=email.subject, html_body=email.html)
            if email.attachment is not None:
                values.update(attachment_name=email.attachment.filename, attachment=email.attachment.content)
        await insert_row(session, notices, values, "ON CONFLICT ON CONSTRAINT uq_notify_notice_per_event DO NOTHING")

    def _dossier(self, row: Any) -> dict[str, Any]:
        return {
            "code": row["dossier_code"],
            "procedure_name": row["procedure_name"],
            "applicant_name": row["name"],
            "lookup_url": self.settings.lookup_url.format(code=row["dossier_code"]),
        }

    async def _contact(self, session: AsyncSession, envelope: Envelope) -> Any | None:
        """The stored contact, or None after parking the event until the receipt arrives."""
        row = await (await driver_connection(session)).fetchrow(
            "SELECT * FROM notify.contacts WHERE dossier_id = $1", UUID(envelope.dossier_id)
        )
        if row is None:
            await insert_row(
                session, parked_events, {"dossier_id": UUID(envelope.dossier_id), "envelope": envelope.model_dump(mode="json")}
            )
        return row

    async def to_citizen(self, session: AsyncSession, envelope: Envelope) -> None:
        row = await self._contact(session, envelope)
        if row is None:
            return
        trigger = TRIGGERS[envelope.type]
        contact = Contact(
            row["name"], row["phone"], row["email"], tuple(row["channels"]), row["language"], row["opt_out_non_essential"]
        )
        context = {"dossier": self._dossier(row), "event": envelope.payload}
        skipped = suppressed(trigger, contact)
        for channel, address in recipients(contact):
            await self._record(session, envelope, trigger, channel, address, context, contact.language, skipped)

    async def to_staff(self, session: AsyncSession, envelope: Envelope, agency_code: str | None, agency_name: str | None) -> None:
        row = await self._contact(session, envelope)
        if row is None:
            return
        trigger = TRIGGERS[envelope.type]
        channel = "email"
        context = {
            "dossier": self._dossier(row),
            "event": envelope.payload,
            "agency": {"code": agency_code or "*", "name": agency_name or agency_code or "Bộ phận tiếp nhận và trả kết quả"},
        }
        for address in staff_for(self.staff, agency_code):
            await self._record(session, envelope, trigger, channel, address, context, "vi", skipped=False)

    # ------------------------------------------------------------------ handlers

    async def on_received(self, session: AsyncSession, envelope: Envelope) -> None:
        event = parse(envelope, DossierReceived)
        a = event.applicant
        await insert_row(
            session,
            contacts,
            dict(
                dossier_id=UUID(envelope.dossier_id),
                dossier_code=event.dossier_code,
                procedure_name=event.procedure_name,
                name=a.name,
                phone=a.phone,
                email=a.email,
                channels=list(a.notify_channels),
                language=a.language,
                opt_out_non_essential=a.opt_out_non_essential,
            ),
            "ON CONFLICT DO NOTHING",
        )
        await self.to_citizen(session, envelope)
        parked = await (await driver_connection(session)).fetch(
            "DELETE FROM notify.parked_events WHERE dossier_id = $1 RETURNING id, envelope", UUID(envelope.dossier_id)
        )
        for _, raw in sorted(parked, key=lambda r: r[0]):
            waiting = Envelope.model_validate(raw)
            await self.handlers()[waiting.type](session, waiting)

    async def on_supplement_requested(self, session: AsyncSession, envelope: Envelope) -> None:
        event = parse(envelope, SupplementRequested)
        # The counter's request comes from intake, an agency's from routing; an echo on the other topic is not a second request.
        if (envelope.producer == "intake") != (event.requested_by == "counter"):
            return
        await self.to_citizen(session, envelope)

    async def on_warning(self, session: AsyncSession, envelope: Envelope) -> None:
        event = parse(envelope, DeadlineWarning)
        await self.to_staff(session, envelope, event.agency_code, None)

    async def on_overdue(self, session: AsyncSession, envelope: Envelope) -> None:
        event = parse(envelope, DeadlineOverdue)
        await self.to_staff(session, envelope, event.agency_code, event.agency_name)

    async def _validated(self, session: AsyncSession, envelope: Envelope, schema: type) -> None:
        parse(envelope, schema)  # a malformed payload fails here, before anything is recorded
        await self.to_citizen(session, envelope)

    def handlers(self) -> dict[str, Handler]:
        def citizen(schema: type) -> Handler:
            async def handle(session: AsyncSession, envelope: Envelope) -> None:
                await self._validated(session, envelope, schema)

            return handle

        return {
            DossierReceived.event_type: self.on_received,
            SupplementRequested.event_type: self.on_supplement_requested,
            DossierRefused.event_type: citizen(DossierRefused),
            FeeRequested.event_type: citizen(FeeRequested),
            ApologyIssued.event_type: citizen(ApologyIssued),
            RouteCompleted.event_type: citizen(RouteCompleted),
            ResultReturned.event_type: citizen(ResultReturned),
            DeadlineWarning.event_type: self.on_warning,
            DeadlineOverdue.event_type: self.on_overdue,
        }


def subscriptions(runtime: Runtime) -> list[Subscription]:
    notifier = Notifier(runtime.settings)  # type: ignore[arg-type]
    return [Subscription(name="notices", sources=("intake", "routing", "deadline"), handlers=notifier.handlers())]
