"""Interlinked handling: step details, the routing view of dossiers, LGSP deliveries, national
portal pushes, inbound nonces and the append-only, hash-chained audit log.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
SCHEMA = "routing"


def upgrade() -> None:
    op.add_column("route_steps", sa.Column("department", sa.Text), schema=SCHEMA)
    op.add_column("route_steps", sa.Column("officer", sa.Text), schema=SCHEMA)
    op.add_column("route_steps", sa.Column("result_documents", JSONB, nullable=False, server_default="[]"), schema=SCHEMA)
    op.add_column("route_steps", sa.Column("note", sa.Text), schema=SCHEMA)
    op.add_column("route_steps", sa.Column("updated_at", sa.DateTime(timezone=True)), schema=SCHEMA)
    op.create_table(
        "dossiers",
        sa.Column("dossier_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("dossier_code", sa.String(64), nullable=False),
        sa.Column("procedure_code", sa.String(64), nullable=False),
        sa.Column("procedure_name", sa.Text, nullable=False),
        sa.Column("field_code", sa.String(64), nullable=False, server_default=""),
        sa.Column("channel", sa.Integer, nullable=False),
        sa.Column("applicant_name", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("appointment_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("correlation_id", UUID(as_uuid=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("request_id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("dossier_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("endpoint", sa.Text, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_error", sa.Text),
        sa.Column("response", JSONB),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        schema=SCHEMA,
    )
    op.create_index("ix_routing_deliveries_due", "deliveries", ["state", "next_attempt_at"], schema=SCHEMA)
    op.create_table(
        "portal_pushes",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("dossier_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("pushed_at", sa.DateTime(timezone=True)),
        schema=SCHEMA,
    )
    op.create_index("ix_routing_portal_due", "portal_pushes", ["state", "next_attempt_at"], schema=SCHEMA)
    op.create_table(
        "inbound_nonces",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("nonce", sa.String(128), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now(), index=True),
        schema=SCHEMA,
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("entry", JSONB, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("prev_hash", name="uq_routing_audit_prev_hash"),
        schema=SCHEMA,
    )
    op.create_index("ix_routing_audit_dossier", "audit_log", [sa.text("(entry->>'dossier_id')")], schema=SCHEMA)
    op.create_index("ix_routing_dossiers_updated_at", "dossiers", ["updated_at"], schema=SCHEMA)
    # Append-only: the database itself refuses to change or remove an audit record.
    op.execute(
        f"""
        CREATE FUNCTION {SCHEMA}.audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'routing.audit_log is append-only';
        END $$
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON {SCHEMA}.audit_log
            FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.audit_log_append_only()
        """
    )


def downgrade() -> None:
    op.execute(f"DROP TRIGGER IF EXISTS audit_log_append_only ON {SCHEMA}.audit_log")
    op.execute(f"DROP FUNCTION IF EXISTS {SCHEMA}.audit_log_append_only()")
    for table in ("audit_log", "inbound_nonces", "portal_pushes", "deliveries", "dossiers"):
        op.drop_table(table, schema=SCHEMA)
    for column in ("updated_at", "note", "result_documents", "officer", "department"):
        op.drop_column("route_steps", column, schema=SCHEMA)
