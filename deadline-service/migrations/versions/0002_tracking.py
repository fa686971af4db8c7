"""Tracking the whole dossier life: dossiers, pauses, timers, apologies; closing and pausing deadlines.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
SCHEMA = "deadline"


def upgrade() -> None:
    for column in (
        sa.Column("agency_name", sa.String(200)),
        sa.Column("remaining_hours", sa.Float),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.String(16)),
        sa.Column("overdue_at", sa.DateTime(timezone=True)),
    ):
        op.add_column("deadlines", column, schema=SCHEMA)
    op.create_table(
        "dossiers",
        sa.Column("dossier_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("dossier_code", sa.String(64), nullable=False),
        sa.Column("procedure_code", sa.String(64), nullable=False),
        sa.Column("procedure_name", sa.String(300), nullable=False),
        sa.Column("field_code", sa.String(64), nullable=False),
        sa.Column("channel", sa.Integer, nullable=False),
        sa.Column("fully_online", sa.Boolean, nullable=False),
        sa.Column("receiving_unit", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("budget_hours", sa.Float, nullable=False),
        sa.Column("resume_rule", sa.String(16), nullable=False),
        sa.Column("route", JSONB, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("paused_status", sa.Integer),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("appointment_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.String(16)),
        schema=SCHEMA,
    )
    op.create_index("ix_deadline_dossiers_received", "dossiers", ["received_at"], schema=SCHEMA)
    op.create_table(
        "pauses",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("dossier_id", UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("requested_by", sa.String(64)),
        sa.Column("step_id", sa.String(64)),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resumed_at", sa.DateTime(timezone=True)),
        sa.Column("old_appointment_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("appointment_remaining_hours", sa.Float, nullable=False),
        sa.Column("new_appointment_at", sa.DateTime(timezone=True)),
        schema=SCHEMA,
    )
    op.create_index("ix_deadline_pauses_dossier_id", "pauses", ["dossier_id"], schema=SCHEMA)
    op.create_table(
        "timers",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("dossier_id", UUID(as_uuid=True), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fire_at", sa.DateTime(timezone=True)),
        sa.Column("fired_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("dossier_id", "scope", "step_id", "kind", "due_at", name="uq_timer_once_per_due_time"),
        schema=SCHEMA,
    )
    op.create_index("ix_timers_fire_at", "timers", ["fire_at"], schema=SCHEMA, postgresql_where=sa.text("fire_at IS NOT NULL"))
    op.create_table(
        "apologies",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("dossier_id", UUID(as_uuid=True), nullable=False),
        sa.Column("responsible_agency_code", sa.String(64)),
        sa.Column("responsible_agency_name", sa.String(200)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("old_appointment_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("new_appointment_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_index("ix_deadline_apologies_dossier_id", "apologies", ["dossier_id"], schema=SCHEMA)


def downgrade() -> None:
    for name in ("apologies", "timers", "pauses", "dossiers"):
        op.drop_table(name, schema=SCHEMA)
    for name in ("overdue_at", "outcome", "completed_at", "remaining_hours", "agency_name"):
        op.drop_column("deadlines", name, schema=SCHEMA)
