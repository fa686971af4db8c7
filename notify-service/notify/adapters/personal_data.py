"""What notify holds about a citizen (Decree 13/2023): the applicant's contact per dossier and the
notices sent about it. Exported opened for the citizen's request, erased on request, and erased by
the retention rules once no longer needed:

- `notice_texts`: a final notice's recipient, body, subject, HTML and attached form (the form names
  the applicant) `RETENTION_NOTICE_TEXT_DAYS` after it became final (sent, delivered, failed,
  skipped); the delivery log keeps its trigger, channel, masked recipient, status and times.
- `contacts`: the contact's name, phone, e-mail and look-up secret `RETENTION_CONTACT_DAYS` after
  the dossier ended (result returned, withdrawn, refused: `contacts.ended_at`).
- `parked_events`: events that waited `RETENTION_PARKED_EVENT_DAYS` for a receipt or contact that
  never came.

An erased value is '' (NOT NULL text columns) or NULL, with `erased_at` set."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.repository import open_notice
from notify.adapters.tables import PURPOSES
from notify.settings import NotifySettings
from services.db import driver_connection
from services.personal_data.keys import KeyRing
from services.personal_data.requests import Held
from services.personal_data.retention import RetentionRule

FINAL = "('sent', 'delivered', 'failed', 'skipped')"
FINAL_AT = "coalesce(delivered_at, failed_at, sent_at, created_at)"
ERASE_NOTICE_TEXTS = (
    "UPDATE notify.notices SET recipient = '', body = '', subject = NULL, html_body = NULL, attachment = NULL, "
    "erased_at = now() WHERE {where} RETURNING dossier_id::text AS dossier_id"
)
ERASE_CONTACT = (
    "UPDATE notify.contacts SET name = NULL, phone = NULL, email = NULL, lookup_secret = NULL, erased_at = now() "
    "WHERE {where} RETURNING dossier_id::text AS dossier_id"
)
CONTACT_HELD = (
    "SELECT dossier_code, procedure_name, name, phone, email, channels, language, opt_out_non_essential, "
    "receiving_unit, created_at, ended_at, erased_at FROM notify.contacts WHERE dossier_id = $1"
)
NOTICES_HELD = (
    "SELECT id, trigger, channel, recipient, recipient_masked, subject, body, attachment_name, language, status, "
    "attempts, last_error, created_at, sent_at, delivered_at, failed_at, erased_at "
    "FROM notify.notices WHERE dossier_id = $1 ORDER BY created_at, channel"
)


def retention_rules(settings: NotifySettings) -> list[RetentionRule]:
    notice_texts = ERASE_NOTICE_TEXTS.format(
        where=f"id IN (SELECT id FROM notify.notices WHERE status IN {FINAL} AND erased_at IS NULL AND {FINAL_AT} < $1 "
        "ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)"
    )
    contacts = ERASE_CONTACT.format(
        where="dossier_id IN (SELECT dossier_id FROM notify.contacts WHERE ended_at < $1 AND erased_at IS NULL "
        "ORDER BY dossier_id LIMIT $2 FOR UPDATE SKIP LOCKED)"
    )
    parked = (
        "DELETE FROM notify.parked_events WHERE id IN (SELECT id FROM notify.parked_events WHERE parked_at < $1 "
        "ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING dossier_id::text AS dossier_id"
    )
    return [
        RetentionRule("notice_texts", timedelta(days=settings.retention_notice_text_days), notice_texts),
        RetentionRule("contacts", timedelta(days=settings.retention_contact_days), contacts),
        RetentionRule("parked_events", timedelta(days=settings.retention_parked_event_days), parked),
    ]


class NotifyHolder:
    """Notify's part of a citizen's request for one dossier (`services.personal_data.requests.Holder`)."""

    def __init__(self, keys: KeyRing) -> None:
        self.keys = keys

    async def export(self, session: AsyncSession, dossier_id: str) -> Held:
        if not _is_uuid(dossier_id):
            return {}
        conn = await driver_connection(session)
        held: dict[str, list[dict[str, Any]]] = {}
        row = await conn.fetchrow(CONTACT_HELD, dossier_id)
        if row is not None and (row["name"] or row["phone"] or row["email"]):
            contact = dict(row)
            for column in ("name", "phone", "email"):
                value = contact[column]
                contact[column] = self.keys.open(value, purpose=PURPOSES[("contacts", column)]) if value else None
            held["contacts"] = [_plain(contact)]
        notices = [_plain(open_notice(self.keys, r)) for r in await conn.fetch(NOTICES_HELD, dossier_id)]
        if notices:
            held["notices"] = notices
        return held

    async def erase(self, session: AsyncSession, dossier_id: str) -> int:
        """The contact and every notice's texts and recipient; a notice not yet sent will not be."""
        if not _is_uuid(dossier_id):
            return 0
        conn = await driver_connection(session)
        await conn.execute(
            "UPDATE notify.notices SET status = 'skipped', last_error = 'erased at the citizen''s request' "
            "WHERE dossier_id = $1::uuid AND status IN ('pending', 'held')",
            dossier_id,
        )
        notices = await conn.fetch(ERASE_NOTICE_TEXTS.format(where="dossier_id = $1::uuid AND erased_at IS NULL"), dossier_id)
        contact = await conn.fetch(
            ERASE_CONTACT.format(where="dossier_id = $1::uuid AND (name IS NOT NULL OR phone IS NOT NULL OR email IS NOT NULL)"),
            dossier_id,
        )
        parked = await conn.fetch("DELETE FROM notify.parked_events WHERE dossier_id = $1::uuid RETURNING id", dossier_id)
        return len(notices) + len(contact) + len(parked)


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready: times and ids as text."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else str(v) if k == "id" else v) for k, v in record.items()}


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True
