"""A withdrawal or refusal read before its dossier's receipt waits in `routing.parked_events`
until the route is fixed, and is then applied (services.messaging.parking).

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
SCHEMA = "routing"


def upgrade() -> None:
    op.create_table(
        "parked_events",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("dossier_id", UUID(as_uuid=True), nullable=False),
        sa.Column("envelope", JSONB, nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index("ix_routing_parked_events_dossier_id", "parked_events", ["dossier_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("parked_events", schema=SCHEMA)
