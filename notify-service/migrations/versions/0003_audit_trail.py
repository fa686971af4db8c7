"""Notify's audit trail: every state change and every read of personal data, with the actor; append-only.

Revision ID: 0003
"""

from services.audit import create_audit_trail, drop_audit_trail

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
SCHEMA = "notify"


def upgrade() -> None:
    create_audit_trail(SCHEMA)


def downgrade() -> None:
    drop_audit_trail(SCHEMA)
