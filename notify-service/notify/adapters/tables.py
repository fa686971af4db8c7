"""Notify's own tables, in schema `notify`: notices (the delivery log, also the dispatcher's work
queue), the applicant's contact per dossier, the events parked until that contact is known (the
kernel's `parked_events`, as migration 0002 created it) and the parts of citizens' requests.

Personal data is sealed at rest under notify's own ring (`runtime.keys`, see `SEALED`): the
contact's name, phone, e-mail and look-up secret, a notice's recipient and every text it carries.
`recipient_masked` stays readable (masked); `recipient_key` is a keyed hash of the recipient under
the same ring, for the unique constraint a sealed (randomised) value cannot carry."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.messaging import messaging_tables
from services.messaging.parking import parked_events_table
from services.personal_data.requests import parts_table
from services.personal_data.rotation import SealedColumn

metadata = MetaData(schema="notify")
messaging = messaging_tables(metadata)

# Statuses: pending → sending → sent → delivered; held (quiet hours); failed (dead letter, re-sendable);
# skipped (the citizen opted out of non-essential notices).
notices = Table(
    "notices",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("dossier_id", UUID(as_uuid=True), nullable=False),
    Column("trigger", String(64), nullable=False),
    Column("trigger_event_id", UUID(as_uuid=True), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("recipient", Text, nullable=False),  # sealed; '' once erased
    Column("recipient_masked", Text, nullable=False),
    Column("recipient_key", Text, nullable=False),  # keyed hash of the recipient (`KeyRing.digest`)
    Column("body", Text, nullable=False),
    Column("subject", Text),
    Column("html_body", Text),
    Column("attachment_name", Text),
    Column("attachment", Text),
    Column("language", String(8), nullable=False, server_default="vi"),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("resends", Integer, nullable=False, server_default="0"),
    Column("gateway_id", Text),
    Column("provider_message_id", Text),
    Column("last_error", Text),
    Column("permanent", Boolean),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("held_until", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
    Column("delivered_at", DateTime(timezone=True)),
    Column("failed_at", DateTime(timezone=True)),
    # The W3C traceparent current when the notice was recorded (tracing on: `services.tracing`), so
    # its sending, later and by the dispatcher, joins the dossier's trace.
    Column("traceparent", Text),
    # When its texts and recipient were erased (retention, or the citizen's request).
    Column("erased_at", DateTime(timezone=True)),
    UniqueConstraint("dossier_id", "trigger_event_id", "channel", "recipient_key", name="uq_notify_notice_per_event"),
    Index("ix_notify_notices_due", "next_attempt_at", postgresql_where="status IN ('pending', 'sending', 'held')"),
    Index("ix_notify_notices_gateway_id", "gateway_id"),
    Index("ix_notify_notices_dossier", "dossier_id", "created_at"),
)

contacts = Table(
    "contacts",
    metadata,
    Column("dossier_id", UUID(as_uuid=True), primary_key=True),
    # From dossier.received: NULL until it is read (the contact may come first).
    Column("dossier_code", Text),
    Column("procedure_name", Text),
    # From dossier.contact_given (or an old dossier.received), sealed; NULL once erased.
    Column("name", Text),
    Column("phone", Text),
    Column("email", Text),
    Column("lookup_secret", Text),  # only until the receipt notice is drafted
    Column("channels", JSONB, nullable=False),
    Column("language", String(8), nullable=False),
    Column("opt_out_non_essential", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("receiving_unit", String(64)),  # NULL for dossiers received before migration 0004
    # When the dossier ended for notify (result returned, withdrawn, refused): retention counts from it.
    Column("ended_at", DateTime(timezone=True)),
    Column("erased_at", DateTime(timezone=True)),
)

parked_events = parked_events_table(metadata)

personal_data_parts = parts_table(metadata)

# What each sealed column is sealed as (its associated data).
PURPOSES = {
    ("contacts", "name"): "notify.contacts.name",
    ("contacts", "phone"): "notify.contacts.phone",
    ("contacts", "email"): "notify.contacts.email",
    ("contacts", "lookup_secret"): "notify.contacts.lookup_secret",
    ("notices", "recipient"): "notify.notices.recipient",
    ("notices", "body"): "notify.notices.body",
    ("notices", "subject"): "notify.notices.subject",
    ("notices", "html_body"): "notify.notices.html_body",
    ("notices", "attachment"): "notify.notices.attachment",
}
RECIPIENT_KEY = "notify.notices.recipient_key"
SEALED = [
    SealedColumn(f"notify.{table}", "dossier_id" if table == "contacts" else "id", column, purpose)
    for (table, column), purpose in PURPOSES.items()
]
