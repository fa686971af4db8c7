"""The applicant's language (`vi` or `en`): the language of their notices. It is kept with the
applicant's other choices (channels, opt-out) in `dossiers.applicant`; dossiers received before it
was asked for were told in Vietnamese, and say so.

Revision ID: 0006
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
SCHEMA = "intake"


def upgrade() -> None:
    op.execute(
        f"UPDATE {SCHEMA}.dossiers SET applicant = applicant || jsonb_build_object('language', 'vi') "
        "WHERE applicant -> 'language' IS NULL"
    )


def downgrade() -> None:
    op.execute(f"UPDATE {SCHEMA}.dossiers SET applicant = applicant - 'language'")
