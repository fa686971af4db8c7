"""The outbox relay's lease: which replica publishes routing's outbox, until when, and with which
epoch (it replaces a session advisory lock, which a vanished host kept until TCP gave up).

Revision ID: 0006
"""

from services.messaging.migration import create_relay_lease, drop_relay_lease

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
SCHEMA = "routing"


def upgrade() -> None:
    create_relay_lease(SCHEMA)


def downgrade() -> None:
    drop_relay_lease(SCHEMA)
