"""Notify's own tables, in schema `notify`."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import UUID

from services.messaging import messaging_tables

metadata = MetaData(schema="notify")
messaging = messaging_tables(metadata)

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
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("dossier_id", "trigger", "channel", "recipient", name="uq_notify_notice_once"),
    Index("ix_notify_notices_due", "next_attempt_at", postgresql_where="status IN ('pending', 'sending')"),
)
