"""Catalogue snapshot, look-up secret, lifecycle columns, idempotency keys, supplement requests,
look-up rate limiting, public timeline entries.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
SCHEMA = "intake"

NEW_COLUMNS = [
    sa.Column("field_code", sa.String(16), nullable=False, server_default=""),
    sa.Column("agency_code", sa.String(64), nullable=False, server_default=""),
    sa.Column("current_agency_code", sa.String(64)),
    sa.Column("current_agency_name", sa.Text),
    sa.Column("applicant_name", sa.Text, nullable=False, server_default=""),
    sa.Column("lookup_secret", sa.String(16), nullable=False, server_default=""),
    sa.Column("procedure_snapshot", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("documents", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("clock_starts_at", sa.DateTime(timezone=True)),
    sa.Column("resume_status", sa.SmallInteger),
    sa.Column("overdue", sa.Boolean, nullable=False, server_default=sa.text("false")),
    sa.Column("returned_at", sa.DateTime(timezone=True)),
    sa.Column("return_method", sa.String(16)),
    sa.Column("rating", sa.SmallInteger),
    sa.Column("rating_comment", sa.Text),
    sa.Column("closing_reason", sa.Text),
]


def upgrade() -> None:
    for column in NEW_COLUMNS:
        op.add_column("dossiers", column, schema=SCHEMA)
    op.execute(f"UPDATE {SCHEMA}.dossiers SET applicant_name = applicant->>'name'")
    op.create_index("ix_intake_dossiers_received", "dossiers", ["received_at", "id"], schema=SCHEMA)
    op.create_index("ix_intake_dossiers_status", "dossiers", ["status"], schema=SCHEMA)
    op.add_column("timeline", sa.Column("public", sa.Boolean, nullable=False, server_default=sa.text("true")), schema=SCHEMA)
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("dossier_id", UUID(as_uuid=True)),
        sa.Column("response", JSONB),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_table(
        "supplement_requests",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("dossier_id", UUID(as_uuid=True), sa.ForeignKey(f"{SCHEMA}.dossiers.id"), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("step_id", sa.String(64)),
        sa.Column("items", JSONB, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("appointment_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("appointment_after", sa.DateTime(timezone=True)),
        sa.Column("received_at", sa.DateTime(timezone=True)),
        sa.Column("received_items", JSONB),
        schema=SCHEMA,
    )
    op.create_index("ix_intake_supplements_dossier", "supplement_requests", ["dossier_id"], schema=SCHEMA)
    op.create_table(
        "lookup_attempts",
        sa.Column("client", sa.String(100), primary_key=True),
        sa.Column("window_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("lookup_attempts", schema=SCHEMA)
    op.drop_table("supplement_requests", schema=SCHEMA)
    op.drop_table("idempotency_keys", schema=SCHEMA)
    op.drop_column("timeline", "public", schema=SCHEMA)
    op.drop_index("ix_intake_dossiers_status", "dossiers", schema=SCHEMA)
    op.drop_index("ix_intake_dossiers_received", "dossiers", schema=SCHEMA)
    for column in reversed(NEW_COLUMNS):
        op.drop_column("dossiers", column.name, schema=SCHEMA)
