"""Routing's own tables, in schema `routing`."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Float, Index, MetaData, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.messaging import messaging_tables

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
    Column("action", String(32), nullable=False),
    Column("note", Text),
)
