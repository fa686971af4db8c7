"""Routing's own tables, in schema `routing`."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
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
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.messaging import messaging_tables
from services.messaging.parking import parked_events_table
from services.personal_data.requests import parts_table

metadata = MetaData(schema="routing")
messaging = messaging_tables(metadata)

route_steps = Table(
    "route_steps",
    metadata,
    Column("dossier_id", UUID(as_uuid=True), primary_key=True),
    Column("step_id", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("agency_code", String(64), nullable=False),
    Column("agency_name", Text, nullable=False),
    Column("budget_hours", Float, nullable=False),
    Column("after", JSONB, nullable=False),
    Column("state", String(16), nullable=False),
    Column("assigned_at", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True)),
    Column("department", Text),
    Column("officer", Text),  # the officer's display name, as the control sheet shows it
    Column("officer_subject", Text),  # their subject in the identity provider, when they signed in there
    Column("result_documents", JSONB, nullable=False, server_default="[]"),
    Column("note", Text),
    Column("updated_at", DateTime(timezone=True)),
    Index("ix_routing_steps_agency_state", "agency_code", "state"),
)

handovers = Table(
    "handovers",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("dossier_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("step_id", String(64), nullable=False),
    Column("from_party", Text, nullable=False),
    Column("to_party", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", Text, nullable=False),
    Column("actor_subject", Text),
    Column("action", String(32), nullable=False),
    Column("note", Text),
)

dossiers = Table(
    "dossiers",
    metadata,
    Column("dossier_id", UUID(as_uuid=True), primary_key=True),
    Column("dossier_code", String(64), nullable=False),
    Column("procedure_code", String(64), nullable=False),
    Column("procedure_name", Text, nullable=False),
    Column("field_code", String(64), nullable=False, server_default=""),
    Column("channel", Integer, nullable=False),
    # Sealed (`routing.adapters.personal_data`), for the portal's ChuHoSo; NULL once erased.
    Column("applicant_name", Text),
    # Whose counter received it (from `dossier.received`): counter officers and unit leaders see the
    # routes of their units' dossiers. NULL for dossiers routed before it was kept.
    Column("receiving_unit", String(100)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("appointment_at", DateTime(timezone=True), nullable=False),
    Column("phase", String(16), nullable=False),
    Column("correlation_id", UUID(as_uuid=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, index=True),
    Index("ix_routing_dossiers_receiving_unit", "receiving_unit"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("request_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("dossier_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("step_id", String(64), nullable=False),
    Column("agency_code", String(64), nullable=False),
    Column("endpoint", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("state", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_error", Text),
    Column("response", JSONB),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("delivered_at", DateTime(timezone=True)),
    Index("ix_routing_deliveries_due", "state", "next_attempt_at"),
)

portal_pushes = Table(
    "portal_pushes",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("dossier_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("status_code", Integer, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("state", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("pushed_at", DateTime(timezone=True)),
    Index("ix_routing_portal_due", "state", "next_attempt_at"),
)

inbound_nonces = Table(
    "inbound_nonces",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("nonce", String(128), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("entry", JSONB, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("prev_hash", name="uq_routing_audit_prev_hash"),
    Index("ix_routing_audit_dossier", text("(entry->>'dossier_id')")),
)

# A citizen's export or erasure request, routing's part of it (services.personal_data.requests): migration 0007.
personal_data_parts = parts_table(metadata)

# A withdrawal or refusal read before its dossier's receipt (services.messaging.parking): migration 0005.
parked_events = parked_events_table(metadata)
