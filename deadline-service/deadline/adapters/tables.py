"""Deadline's own tables, in schema `deadline`: the dossiers it tracks, their due times (the whole
dossier's and each step's), pauses, timers, apologies, and the kernel's messaging and parking
tables."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.messaging import messaging_tables
from services.messaging.parking import parked_events_table
from services.personal_data.requests import parts_table

metadata = MetaData(schema="deadline")
messaging = messaging_tables(metadata)

deadlines = Table(
    "deadlines",
    metadata,
    Column("dossier_id", UUID(as_uuid=True), primary_key=True),
    Column("scope", String(16), primary_key=True),
    Column("step_id", String(64), primary_key=True),  # '' for the whole dossier
    Column("agency_code", String(64)),
    Column("agency_name", String(200)),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("budget_hours", Float, nullable=False),
    Column("state", String(16), nullable=False),  # open | paused | closed | cancelled
    Column("remaining_hours", Float),  # while paused
    Column("completed_at", DateTime(timezone=True)),
    Column("outcome", String(16)),
    Column("overdue_at", DateTime(timezone=True)),
    Index("ix_deadline_open_due", "due_at", postgresql_where="state = 'open'"),
)

dossiers = Table(
    "dossiers",
    metadata,
    Column("dossier_id", UUID(as_uuid=True), primary_key=True),
    Column("dossier_code", String(64), nullable=False),
    Column("procedure_code", String(64), nullable=False),
    Column("procedure_name", String(300), nullable=False),
    Column("field_code", String(64), nullable=False),
    Column("channel", Integer, nullable=False),
    Column("fully_online", Boolean, nullable=False),
    Column("receiving_unit", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("budget_hours", Float, nullable=False),
    Column("resume_rule", String(16), nullable=False),
    Column("route", JSONB, nullable=False),
    Column("state", String(16), nullable=False),  # running | paused | resolved | refused | withdrawn
    Column("paused_status", Integer),
    Column("due_at", DateTime(timezone=True), nullable=False),  # what completion is classed against
    Column("appointment_at", DateTime(timezone=True), nullable=False),  # what the citizen was told last
    Column("ended_at", DateTime(timezone=True)),
    Column("outcome", String(16)),
    Index("ix_deadline_dossiers_received", "received_at"),
)

pauses = Table(
    "pauses",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("dossier_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("status", Integer, nullable=False),
    Column("requested_by", String(64)),
    Column("step_id", String(64)),
    Column("paused_at", DateTime(timezone=True), nullable=False),
    Column("resumed_at", DateTime(timezone=True)),
    Column("old_appointment_at", DateTime(timezone=True), nullable=False),
    Column("appointment_remaining_hours", Float, nullable=False),
    Column("new_appointment_at", DateTime(timezone=True)),
)

# Events read before what they follow (services.messaging.parking): the table of migration 0003.
parked_events = parked_events_table(metadata)

timers = Table(
    "timers",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("dossier_id", UUID(as_uuid=True), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("step_id", String(64), nullable=False),
    Column("kind", String(64), nullable=False),  # overdue | warning:<threshold>
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("fire_at", DateTime(timezone=True)),  # NULL once fired
    Column("fired_at", DateTime(timezone=True)),
    UniqueConstraint("dossier_id", "scope", "step_id", "kind", "due_at", name="uq_timer_once_per_due_time"),
    Index("ix_timers_fire_at", "fire_at", postgresql_where=text("fire_at IS NOT NULL")),
)

apologies = Table(
    "apologies",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("dossier_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("responsible_agency_code", String(64)),
    Column("responsible_agency_name", String(200)),
    Column("reason", Text, nullable=False),
    Column("old_appointment_at", DateTime(timezone=True), nullable=False),
    Column("new_appointment_at", DateTime(timezone=True), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)

# A citizen's export or erasure request, deadline's part of it (services.personal_data.requests): migration 0006.
personal_data_parts = parts_table(metadata)
