"""Intake's first tables: dossiers, dossier-code sequences, timeline, and the messaging tables.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from services.messaging.migration import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
SCHEMA = "intake"


def upgrade() -> None:
    create_messaging_tables(SCHEMA)
    op.create_table(
        "dossiers",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("procedure_code", sa.String(64), nullable=False),
        sa.Column("procedure_name", sa.Text, nullable=False),
        sa.Column("catalogue_version", sa.String(32), nullable=False),
        sa.Column("receiving_unit", sa.String(64), nullable=False),
        sa.Column("channel", sa.SmallInteger, nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("applicant", JSONB, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("appointment_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("budget_hours", sa.Float, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_table(
        "code_sequences",
        sa.Column("unit_code", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "timeline",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("dossier_id", UUID(as_uuid=True), sa.ForeignKey(f"{SCHEMA}.dossiers.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("detail", JSONB, nullable=False),
        sa.Column("event_id", UUID(as_uuid=True), unique=True),
        schema=SCHEMA,
    )
    op.create_index("ix_intake_timeline_dossier", "timeline", ["dossier_id", "at"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("timeline", schema=SCHEMA)
    op.drop_table("code_sequences", schema=SCHEMA)
    op.drop_table("dossiers", schema=SCHEMA)
    drop_messaging_tables(SCHEMA)
