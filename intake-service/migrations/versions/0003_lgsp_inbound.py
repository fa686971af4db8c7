"""Nonces of signed requests from the LGSP: each names its caller's dossier delivery, so a retried
delivery answers with its first result and a replayed nonce with another body is refused.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
SCHEMA = "intake"


def upgrade() -> None:
    op.create_table(
        "inbound_nonces",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("nonce", sa.String(128), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("dossier_id", UUID(as_uuid=True)),
        sa.Column("response", JSONB),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index("ix_intake_inbound_nonces_created", "inbound_nonces", ["created_at"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index("ix_intake_inbound_nonces_created", "inbound_nonces", schema=SCHEMA)
    op.drop_table("inbound_nonces", schema=SCHEMA)
