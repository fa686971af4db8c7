"""Deadline's first tables: tracked due times, and the messaging tables.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from services.messaging.migration import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
SCHEMA = "deadline"


def upgrade() -> None:
    create_messaging_tables(SCHEMA)
    op.create_table(
        "deadlines",
        sa.Column("dossier_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("scope", sa.String(16), primary_key=True),
        sa.Column("step_id", sa.String(64), primary_key=True),
        sa.Column("agency_code", sa.String(64)),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("budget_hours", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_deadline_open_due", "deadlines", ["due_at"], schema=SCHEMA, postgresql_where=sa.text("state = 'open'"))


def downgrade() -> None:
    op.drop_table("deadlines", schema=SCHEMA)
    drop_messaging_tables(SCHEMA)
