"""The trace context each notice was recorded in (`services.tracing`), so that its sending by the
dispatcher, later, shows in the dossier's trace. NULL while tracing is off, and for the notices
recorded before this revision.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
SCHEMA = "notify"


def upgrade() -> None:
    op.add_column("notices", sa.Column("traceparent", sa.Text()), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("notices", "traceparent", schema=SCHEMA)
