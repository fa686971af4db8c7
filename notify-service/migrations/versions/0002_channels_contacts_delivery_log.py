"""Real channels and the delivery log: the applicant's contact per dossier, events waiting for it,
rendered e-mail parts, delivery outcomes; one notice per (dossier, trigger event, channel, recipient).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
SCHEMA = "notify"


def upgrade() -> None:
    op.drop_constraint("uq_notify_notice_once", "notices", schema=SCHEMA)
    op.create_unique_constraint(
        "uq_notify_notice_per_event", "notices", ["dossier_id", "trigger_event_id", "channel", "recipient"], schema=SCHEMA
    )
    for column in (
        sa.Column("subject", sa.Text),
        sa.Column("html_body", sa.Text),
        sa.Column("attachment_name", sa.Text),
        sa.Column("attachment", sa.Text),
        sa.Column("language", sa.String(8), nullable=False, server_default="vi"),
        sa.Column("resends", sa.Integer, nullable=False, server_default="0"),
        sa.Column("gateway_id", sa.Text),
        sa.Column("provider_message_id", sa.Text),
        sa.Column("permanent", sa.Boolean),
        sa.Column("held_until", sa.DateTime(timezone=True)),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("failed_at", sa.DateTime(timezone=True)),
    ):
        op.add_column("notices", column, schema=SCHEMA)
    op.drop_index("ix_notify_notices_due", "notices", schema=SCHEMA)
    op.create_index(
        "ix_notify_notices_due",
        "notices",
        ["next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("status IN ('pending', 'sending', 'held')"),
    )
    op.create_index("ix_notify_notices_gateway_id", "notices", ["gateway_id"], schema=SCHEMA)
    op.create_index("ix_notify_notices_dossier", "notices", ["dossier_id", "created_at"], schema=SCHEMA)
    op.create_table(
        "contacts",
        sa.Column("dossier_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("dossier_code", sa.Text, nullable=False),
        sa.Column("procedure_name", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("phone", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("channels", JSONB, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("opt_out_non_essential", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_table(
        "parked_events",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("dossier_id", UUID(as_uuid=True), nullable=False),
        sa.Column("envelope", JSONB, nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index("ix_notify_parked_events_dossier_id", "parked_events", ["dossier_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("parked_events", schema=SCHEMA)
    op.drop_table("contacts", schema=SCHEMA)
    op.drop_index("ix_notify_notices_dossier", "notices", schema=SCHEMA)
    op.drop_index("ix_notify_notices_gateway_id", "notices", schema=SCHEMA)
    for name in (
        "subject",
        "html_body",
        "attachment_name",
        "attachment",
        "language",
        "resends",
        "gateway_id",
        "provider_message_id",
        "permanent",
        "held_until",
        "delivered_at",
        "failed_at",
    ):
        op.drop_column("notices", name, schema=SCHEMA)
    op.drop_constraint("uq_notify_notice_per_event", "notices", schema=SCHEMA)
    op.create_unique_constraint(
        "uq_notify_notice_once", "notices", ["dossier_id", "trigger", "channel", "recipient"], schema=SCHEMA
    )
