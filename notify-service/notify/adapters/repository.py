"""All of notify's SQL: the applicant's contact per dossier, the notices (recorded once per
dossier, trigger event, channel and recipient), their claim under a lease and their outcomes,
delivery receipts, the operator's re-send and the delivery log. One repository per session; what
runs for every event or every notice sent goes to the driver directly (`services.db`).

Personal values are sealed here on the way in and opened on the way out (`tables.PURPOSES`, under
notify's own ring): the use cases and the channels see them in clear, the tables never do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.tables import PURPOSES, RECIPIENT_KEY, contacts, notices
from notify.application.ports import DueNotice, NewNotice, NoticeStatus, SentNotice
from notify.domain.policy import Contact, DossierContact
from services import tracing
from services.db import driver_connection, insert_row, insert_rows
from services.identity import Scope
from services.personal_data.keys import KeyRing
from services.work_queue import LeasedQueue

CONTACT = (
    "SELECT dossier_code, procedure_name, name, phone, email, channels, language, opt_out_non_essential, receiving_unit, "
    "lookup_secret FROM notify.contacts WHERE dossier_id = $1"
)
ADD_RECEIPT = (
    "UPDATE notify.contacts SET dossier_code = $2, procedure_name = $3, receiving_unit = $4 "
    "WHERE dossier_id = $1 AND dossier_code IS NULL"
)
FORGET_SECRET = "UPDATE notify.contacts SET lookup_secret = NULL WHERE dossier_id = $1 AND lookup_secret IS NOT NULL"
MARK_ENDED = "UPDATE notify.contacts SET ended_at = coalesce(ended_at, $2) WHERE dossier_id = $1 RETURNING dossier_id"
SEALED_NOTICE_COLUMNS = ("recipient", "body", "subject", "html_body", "attachment")
DUE = LeasedQueue(
    notices,
    due="status IN ('pending', 'sending', 'held') AND next_attempt_at <= now()",
    order="next_attempt_at, created_at",
    on_claim="status = 'sending', attempts = attempts + 1",
    returning=", ".join(f.name for f in fields(DueNotice) if f.name != "in_doubt"),
    before={"in_doubt": "status = 'sending'"},  # an earlier claim ran out without an outcome
)
HOLD = (
    "UPDATE notify.notices SET status = 'held', held_until = $2, next_attempt_at = $2, attempts = attempts - 1 "
    "WHERE id = $1 AND status = 'sending'"
)
RENEW = (
    "UPDATE notify.notices SET next_attempt_at = now() + make_interval(secs => $3) "
    "WHERE id = $1 AND status = 'sending' AND attempts = $2 RETURNING id"
)
MARK_SENT = (
    "UPDATE notify.notices SET status = 'sent', sent_at = $2, gateway_id = $3, provider_message_id = $4, last_error = NULL "
    "WHERE id = $1 AND status = 'sending' RETURNING id"
)
RETRY = "UPDATE notify.notices SET status = 'pending', last_error = $2, next_attempt_at = $3 WHERE id = $1 AND status = 'sending'"
MARK_FAILED = (
    "UPDATE notify.notices SET status = 'failed', last_error = $2, permanent = $3, failed_at = $4, gateway_id = $5 "
    "WHERE id = $1 AND status = 'sending' RETURNING id"
)
SENT_WITH = (
    "SELECT id, dossier_id, status, trigger, channel, recipient_masked FROM notify.notices "
    "WHERE gateway_id = $1 OR provider_message_id = $1 FOR UPDATE"
)
MARK_DELIVERED = "UPDATE notify.notices SET status = 'delivered', delivered_at = $2 WHERE id = $1"
MARK_UNDELIVERED = "UPDATE notify.notices SET status = 'failed', failed_at = $3, permanent = true, last_error = $2 WHERE id = $1"


def _open(keys: KeyRing, table: str, column: str, value: str | None) -> str | None:
    """A sealed column's value in clear ('' stays '': erased)."""
    return keys.open(value, purpose=PURPOSES[(table, column)]) if value else value


def open_notice(keys: KeyRing, row: Any) -> dict[str, Any]:
    """A notice row with its sealed columns opened."""
    out = dict(row)
    for column in SEALED_NOTICE_COLUMNS:
        if column in out:
            out[column] = _open(keys, "notices", column, out[column])
    return out


class NotifyRepository:
    def __init__(self, session: AsyncSession, keys: KeyRing) -> None:
        self.session = session
        self.keys = keys

    def _seal(self, table: str, column: str, value: str | None) -> str | None:
        return self.keys.seal(value, purpose=PURPOSES[(table, column)])

    # ------------------------------------------------------------ contacts

    async def contact(self, dossier_id: UUID) -> DossierContact | None:
        row = await (await driver_connection(self.session)).fetchrow(CONTACT, dossier_id)
        if row is None:
            return None
        name, phone, email, secret = (
            _open(self.keys, "contacts", column, row[column]) for column in ("name", "phone", "email", "lookup_secret")
        )
        contact = Contact(name or "", phone, email, tuple(row["channels"]), row["language"], row["opt_out_non_essential"])
        return DossierContact(row["dossier_code"], row["procedure_name"], contact, row["receiving_unit"], secret)

    async def add_contact(self, dossier_id: UUID, contact: Contact, lookup_secret: str | None) -> bool:
        values = {
            "dossier_id": dossier_id,
            "name": self._seal("contacts", "name", contact.name),
            "phone": self._seal("contacts", "phone", contact.phone),
            "email": self._seal("contacts", "email", contact.email),
            "lookup_secret": self._seal("contacts", "lookup_secret", lookup_secret),
            "channels": list(contact.channels),
            "language": contact.language,
            "opt_out_non_essential": contact.opt_out_non_essential,
        }
        return await insert_row(self.session, contacts, values, "ON CONFLICT DO NOTHING RETURNING dossier_id") is not None

    async def add_receipt(self, dossier_id: UUID, code: str, procedure_name: str, receiving_unit: str | None) -> None:
        await (await driver_connection(self.session)).execute(ADD_RECEIPT, dossier_id, code, procedure_name, receiving_unit)

    async def forget_lookup_secret(self, dossier_id: UUID) -> None:
        await (await driver_connection(self.session)).execute(FORGET_SECRET, dossier_id)

    async def mark_ended(self, dossier_id: UUID, at: datetime) -> bool:
        return await (await driver_connection(self.session)).fetchrow(MARK_ENDED, dossier_id, at) is not None

    # ------------------------------------------------------------ notices

    async def add_notices(self, drafted: Sequence[NewNotice]) -> None:
        """One batch of the driver's executemany (every notice has the same columns). With tracing
        on, each keeps the current span's traceparent, for its sending to continue the trace."""
        current = tracing.headers_for().get("traceparent") if tracing.enabled() else None
        rows = [
            {
                **vars(notice),
                **{column: self._seal("notices", column, getattr(notice, column)) for column in SEALED_NOTICE_COLUMNS},
                "recipient_key": self.keys.digest(notice.recipient, purpose=RECIPIENT_KEY),
                "traceparent": notice.traceparent or current,
            }
            for notice in drafted
        ]
        await insert_rows(self.session, notices, rows, "ON CONFLICT ON CONSTRAINT uq_notify_notice_per_event DO NOTHING")

    async def claim_due(self, limit: int, lease_seconds: float) -> list[DueNotice]:
        rows = await DUE.claim(self.session, limit, lease_seconds)
        return [DueNotice(**open_notice(self.keys, row)) for row in rows]

    async def hold_until(self, notice_id: UUID, release: datetime) -> None:
        await (await driver_connection(self.session)).execute(HOLD, notice_id, release)

    async def renew_claim(self, notice_id: UUID, attempts: int, lease_seconds: float) -> bool:
        row = await (await driver_connection(self.session)).fetchrow(RENEW, notice_id, attempts, float(lease_seconds))
        return row is not None

    async def mark_sent(self, notice_id: UUID, at: datetime, gateway_id: str, provider_message_id: str | None) -> bool:
        row = await (await driver_connection(self.session)).fetchrow(MARK_SENT, notice_id, at, gateway_id, provider_message_id)
        return row is not None

    async def retry_at(self, notice_id: UUID, error: str, at: datetime) -> None:
        await (await driver_connection(self.session)).execute(RETRY, notice_id, error, at)

    async def mark_failed(self, notice_id: UUID, *, error: str, permanent: bool, at: datetime, gateway_id: str) -> bool:
        row = await (await driver_connection(self.session)).fetchrow(MARK_FAILED, notice_id, error, permanent, at, gateway_id)
        return row is not None

    # ------------------------------------------------------------ after sending

    async def sent_with(self, gateway_id: str) -> SentNotice | None:
        """The notice a channel knows by this id (ours, or the id the provider gave back), locked."""
        row = await (await driver_connection(self.session)).fetchrow(SENT_WITH, gateway_id)
        return SentNotice(*row) if row is not None else None

    async def mark_delivered(self, notice_id: UUID, at: datetime) -> None:
        await (await driver_connection(self.session)).execute(MARK_DELIVERED, notice_id, at)

    async def mark_undelivered(self, notice_id: UUID, error: str, at: datetime) -> None:
        await (await driver_connection(self.session)).execute(MARK_UNDELIVERED, notice_id, error, at)

    async def status_for_update(self, notice_id: UUID) -> NoticeStatus | None:
        query = select(notices.c.status).where(notices.c.id == notice_id).with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def erased(self, notice_id: UUID) -> bool:
        query = select(notices.c.erased_at.is_not(None)).where(notices.c.id == notice_id)
        return bool((await self.session.execute(query)).scalar_one_or_none())

    async def send_again(self, notice_id: UUID, at: datetime) -> dict[str, Any]:
        """Back to the queue under its next idempotency id (`<id>.rN`), attempts counted afresh."""
        query = (
            update(notices)
            .where(notices.c.id == notice_id)
            .values(
                status="pending", attempts=0, resends=notices.c.resends + 1, next_attempt_at=at, failed_at=None, permanent=None
            )
            .returning(*notices.c)
        )
        return open_notice(self.keys, (await self.session.execute(query)).mappings().one())

    # ------------------------------------------------------------ reading

    async def of_dossier(self, dossier_id: UUID, scope: Scope) -> list[dict[str, Any]] | None:
        """None when notify has no receipt of the dossier, or the dossier's receiving unit is not
        in `scope` (a dossier kept without its unit is the province's only)."""
        known = select(contacts.c.dossier_id).where(contacts.c.dossier_id == dossier_id)
        if not scope.everything:
            known = known.where(contacts.c.receiving_unit.in_(scope.units))
        if (await self.session.execute(known)).first() is None:
            return None
        query = select(notices).where(notices.c.dossier_id == dossier_id).order_by(notices.c.created_at, notices.c.channel)
        return [open_notice(self.keys, r) for r in (await self.session.execute(query)).mappings().all()]

    async def with_status(self, status: NoticeStatus, limit: int) -> list[dict[str, Any]]:
        query = select(notices).where(notices.c.status == status).order_by(notices.c.created_at.desc()).limit(limit)
        return [open_notice(self.keys, r) for r in (await self.session.execute(query)).mappings().all()]
