"""Events read before their dossier's receipt wait in `deadline.parked_events` (topics are read
independently, so routing's events about a dossier can come before intake's `dossier.received`).

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
SCHEMA = "deadline"


def upgrade() -> None:
    op.create_table(
        "parked_events",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("dossier_id", UUID(as_uuid=True), nullable=False),
        sa.Column("envelope", JSONB, nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index("ix_deadline_parked_events_dossier_id", "parked_events", ["dossier_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("parked_events", schema=SCHEMA)
