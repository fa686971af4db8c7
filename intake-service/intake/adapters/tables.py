"""Intake's own tables, in schema `intake`."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.messaging import messaging_tables
from services.personal_data.requests import parts_table

metadata = MetaData(schema="intake")
messaging = messaging_tables(metadata)

dossiers = Table(
    "dossiers",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("procedure_code", String(64), nullable=False),
    Column("procedure_name", Text, nullable=False),
    Column("catalogue_version", String(32), nullable=False),
    Column("receiving_unit", String(64), nullable=False),
    Column("channel", SmallInteger, nullable=False),
    Column("status", SmallInteger, nullable=False),
    # 0008: the applicant (name, citizen id, tax code, phone, e-mail, address, choices) sealed as
    # JSON (`APPLICANT_PURPOSE`); NULL once erased (`applicant_erased_at` says when)
    Column("applicant_sealed", Text),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("appointment_at", DateTime(timezone=True), nullable=False),
    Column("budget_hours", Float, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # 0002
    Column("field_code", String(16), nullable=False, server_default=""),
    Column("agency_code", String(64), nullable=False, server_default=""),
    Column("current_agency_code", String(64)),
    Column("current_agency_name", Text),
    Column("applicant_name", Text, nullable=False, server_default=""),  # sealed since 0008 (`NAME_PURPOSE`)
    Column("lookup_secret", String(16), nullable=False, server_default=""),
    Column("procedure_snapshot", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("documents", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("clock_starts_at", DateTime(timezone=True)),
    Column("resume_status", SmallInteger),
    Column("overdue", Boolean, nullable=False, server_default=text("false")),
    Column("returned_at", DateTime(timezone=True)),
    Column("return_method", String(16)),
    Column("rating", SmallInteger),
    Column("rating_comment", Text),
    Column("closing_reason", Text),
    # 0005: who received it (người tiếp nhận), from their token
    Column("received_by_kind", String(20)),
    Column("received_by_subject", String(200)),
    Column("received_by_name", String(200)),
    Column("received_by_unit", String(100)),
    # 0008: blind indexes (HMAC) for staff search by exact citizen id, phone or full name
    Column("citizen_id_index", String(64)),
    Column("phone_index", String(64)),
    Column("name_index", String(64)),
    Column("applicant_erased_at", DateTime(timezone=True)),
    Index("ix_intake_dossiers_received", "received_at", "id"),
    Index("ix_intake_dossiers_citizen_id_index", "citizen_id_index"),
    Index("ix_intake_dossiers_phone_index", "phone_index"),
    Index("ix_intake_dossiers_name_index", "name_index"),
    Index("ix_intake_dossiers_status", "status"),
    Index("ix_intake_dossiers_unit_received", "receiving_unit", "received_at", "id"),
)

code_sequences = Table(
    "code_sequences",
    metadata,
    Column("unit_code", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("last", Integer, nullable=False),
)

timeline = Table(
    "timeline",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("dossier_id", UUID(as_uuid=True), ForeignKey("intake.dossiers.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("label", Text, nullable=False),
    Column("detail", JSONB, nullable=False),
    Column("event_id", UUID(as_uuid=True), unique=True),
    Column("public", Boolean, nullable=False, server_default=text("true")),  # 0002: shown to the citizen
    Index("ix_intake_timeline_dossier", "dossier_id", "at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("dossier_id", UUID(as_uuid=True)),
    Column("response", Text),  # sealed since 0008 (`RESPONSE_PURPOSE`): the first answer, with the look-up secret
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

supplement_requests = Table(
    "supplement_requests",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("dossier_id", UUID(as_uuid=True), ForeignKey("intake.dossiers.id"), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("step_id", String(64)),
    Column("items", JSONB, nullable=False),
    Column("reason", Text),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("appointment_before", DateTime(timezone=True), nullable=False),
    Column("appointment_after", DateTime(timezone=True)),  # set when deadline resumes the clock
    Column("received_at", DateTime(timezone=True)),
    Column("received_items", JSONB),
    Index("ix_intake_supplements_dossier", "dossier_id"),
)

lookup_attempts = Table(
    "lookup_attempts",
    metadata,
    Column("client", String(100), primary_key=True),
    Column("window_start", DateTime(timezone=True), primary_key=True),
    Column("count", Integer, nullable=False),
)

# 0003: a signed LGSP delivery's nonce doubles as its idempotency key (same columns as idempotency_keys)
inbound_nonces = Table(
    "inbound_nonces",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("nonce", String(128), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("dossier_id", UUID(as_uuid=True)),
    Column("response", Text),  # sealed since 0008 (`NONCE_RESPONSE_PURPOSE`)
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),
)

# 0008: a citizen's export or erasure requests (Decree 13/2023 art. 14–16). The citizen id itself is
# never kept: its blind index finds the dossiers again.
personal_data_requests = Table(
    "personal_data_requests",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("citizen_id_index", String(64), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("requester", JSONB, nullable=False),  # the operator's actor
    Column("dossier_ids", JSONB, nullable=False),  # the dossiers acted on
    Column("kept", JSONB, nullable=False, server_default=text("'[]'::jsonb")),  # [{dossier_id, code, reason}]
    Column("answers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),  # {dossier_id: {service: records}}
)
parts = parts_table(metadata)

# Sealed values are bound to their column (associated data), so one copied elsewhere does not open.
APPLICANT_PURPOSE = "intake.dossiers.applicant"
NAME_PURPOSE = "intake.dossiers.applicant_name"
RESPONSE_PURPOSE = "intake.idempotency_keys.response"
NONCE_RESPONSE_PURPOSE = "intake.inbound_nonces.response"
