"""The outbox relay's lease: which replica publishes deadline's outbox, until when, and with which
epoch (it replaces a session advisory lock, which a vanished host kept until TCP gave up).

Revision ID: 0005
"""

from services.messaging.migration import create_relay_lease, drop_relay_lease

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
SCHEMA = "deadline"


def upgrade() -> None:
    create_relay_lease(SCHEMA)


def downgrade() -> None:
    drop_relay_lease(SCHEMA)
