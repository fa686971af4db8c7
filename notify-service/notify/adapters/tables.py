"""Notify's own tables, in schema `notify`: notices (the delivery log, also the dispatcher's work
queue), the applicant's contact per dossier, and the events parked until that contact is known
(the kernel's `parked_events`, as migration 0002 created it)."""

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
    Column("recipient", Text, nullable=False),
    Column("recipient_masked", Text, nullable=False),
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
    UniqueConstraint("dossier_id", "trigger_event_id", "channel", "recipient", name="uq_notify_notice_per_event"),
    Index("ix_notify_notices_due", "next_attempt_at", postgresql_where="status IN ('pending', 'sending', 'held')"),
    Index("ix_notify_notices_gateway_id", "gateway_id"),
    Index("ix_notify_notices_dossier", "dossier_id", "created_at"),
)

contacts = Table(
    "contacts",
    metadata,
    Column("dossier_id", UUID(as_uuid=True), primary_key=True),
    Column("dossier_code", Text, nullable=False),
    Column("procedure_name", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("phone", Text),
    Column("email", Text),
    Column("channels", JSONB, nullable=False),
    Column("language", String(8), nullable=False),
    Column("opt_out_non_essential", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("receiving_unit", String(64)),  # NULL for dossiers received before migration 0004
)

parked_events = parked_events_table(metadata)
