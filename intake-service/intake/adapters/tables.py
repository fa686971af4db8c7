"""Intake's own tables, in schema `intake`."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, Float, ForeignKey, Index, Integer, MetaData, SmallInteger, String, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.messaging import messaging_tables

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
    Column("applicant", JSONB, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("appointment_at", DateTime(timezone=True), nullable=False),
    Column("budget_hours", Float, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
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
    Index("ix_intake_timeline_dossier", "dossier_id", "at"),
)
