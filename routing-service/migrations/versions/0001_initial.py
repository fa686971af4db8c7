"""Routing's first tables: route steps, handovers (control sheet), and the messaging tables.

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
SCHEMA = "routing"


def upgrade() -> None:
    create_messaging_tables(SCHEMA)
    op.create_table(
        "route_steps",
        sa.Column("dossier_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("step_id", sa.String(64), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("agency_name", sa.Text, nullable=False),
        sa.Column("budget_hours", sa.Float, nullable=False),
        sa.Column("after", JSONB, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True)),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        schema=SCHEMA,
    )
    op.create_index("ix_routing_steps_agency_state", "route_steps", ["agency_code", "state"], schema=SCHEMA)
    op.create_table(
        "handovers",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("dossier_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("from_party", sa.Text, nullable=False),
        sa.Column("to_party", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("note", sa.Text),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("handovers", schema=SCHEMA)
    op.drop_table("route_steps", schema=SCHEMA)
    drop_messaging_tables(SCHEMA)
