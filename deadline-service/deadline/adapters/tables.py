"""Deadline's own tables, in schema `deadline`."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Index, MetaData, String, Table
from sqlalchemy.dialects.postgresql import UUID

from services.messaging import messaging_tables

metadata = MetaData(schema="deadline")
messaging = messaging_tables(metadata)

deadlines = Table(
    "deadlines",
    metadata,
    Column("dossier_id", UUID(as_uuid=True), primary_key=True),
    Column("scope", String(16), primary_key=True),
    Column("step_id", String(64), primary_key=True),  # '' for the whole dossier
    Column("agency_code", String(64)),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("budget_hours", Float, nullable=False),
    Column("state", String(16), nullable=False),
    Index("ix_deadline_open_due", "due_at", postgresql_where="state = 'open'"),
)
