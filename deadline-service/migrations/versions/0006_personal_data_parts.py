"""Deadline's parts of the citizens' export and erasure requests (`services.personal_data.requests`).
Deadline holds no personal data: no column to seal.

Revision ID: 0006
"""

from alembic import op

from services.personal_data.requests import create_parts_table

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
SCHEMA = "deadline"


def upgrade() -> None:
    create_parts_table(SCHEMA)


def downgrade() -> None:
    op.drop_table("personal_data_parts", schema=SCHEMA)
