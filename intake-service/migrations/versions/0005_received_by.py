"""Who received each dossier (người tiếp nhận): the officer, or the portal or LGSP for a dossier
filed online, as their token named them; and an index for the queries scoped to receiving units.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
SCHEMA = "intake"

NEW_COLUMNS = [
    sa.Column("received_by_kind", sa.String(20)),
    sa.Column("received_by_subject", sa.String(200)),
    sa.Column("received_by_name", sa.String(200)),
    sa.Column("received_by_unit", sa.String(100)),
]


def upgrade() -> None:
    for column in NEW_COLUMNS:
        op.add_column("dossiers", column, schema=SCHEMA)
    op.create_index("ix_intake_dossiers_unit_received", "dossiers", ["receiving_unit", "received_at", "id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index("ix_intake_dossiers_unit_received", "dossiers", schema=SCHEMA)
    for column in reversed(NEW_COLUMNS):
        op.drop_column("dossiers", column.name, schema=SCHEMA)
