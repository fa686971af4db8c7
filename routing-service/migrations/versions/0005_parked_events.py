"""A withdrawal or refusal read before its dossier's receipt waits in `routing.parked_events`
until the route is fixed, and is then applied (services.messaging.parking).

Revision ID: 0005
"""

from alembic import op

from services.messaging.migration import create_parked_events

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
SCHEMA = "routing"


def upgrade() -> None:
    create_parked_events(SCHEMA)


def downgrade() -> None:
    op.drop_table("parked_events", schema=SCHEMA)
