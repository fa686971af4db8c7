"""The unit that received each dossier, kept with the applicant's contact from `dossier.received`:
officers read a dossier's notices only when it was received at one of their units.

Dossiers received before this revision keep NULL (their events are not read again): their notices
are then readable by the province administrator only.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
SCHEMA = "notify"


def upgrade() -> None:
    op.add_column("contacts", sa.Column("receiving_unit", sa.String(64)), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("contacts", "receiving_unit", schema=SCHEMA)
