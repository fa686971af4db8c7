"""Who acted and whose dossier: the identity provider's subject of the officer on a step and of
the actor on each control sheet line, and the unit that received each dossier (scoping the route
view to counter officers and unit leaders of that unit). Dossiers routed before have no receiving
unit: only the province administrator and the officers of agencies on their route see them.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
SCHEMA = "routing"


def upgrade() -> None:
    op.add_column("route_steps", sa.Column("officer_subject", sa.Text), schema=SCHEMA)
    op.add_column("handovers", sa.Column("actor_subject", sa.Text), schema=SCHEMA)
    op.add_column("dossiers", sa.Column("receiving_unit", sa.String(100)), schema=SCHEMA)
    op.create_index("ix_routing_dossiers_receiving_unit", "dossiers", ["receiving_unit"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index("ix_routing_dossiers_receiving_unit", "dossiers", schema=SCHEMA)
    op.drop_column("dossiers", "receiving_unit", schema=SCHEMA)
    op.drop_column("handovers", "actor_subject", schema=SCHEMA)
    op.drop_column("route_steps", "officer_subject", schema=SCHEMA)
