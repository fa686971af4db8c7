"""Personal data sealed at rest (Decree 13/2023): the contacts' name, phone, e-mail (and the look-up
secret, kept now only until the receipt notice is drafted) and the notices' recipient, body,
subject, HTML and attached form, under notify's own ring. Existing rows are sealed here.

The contact now comes apart from the receipt (`dossier.contact_given` on intake's private
stream), so a contact may be kept before its dossier's code and procedure are known: those become
nullable. `contacts.ended_at` (when the dossier ended, for the retention of contacts) and
`erased_at` on both tables (retention or the citizen's request) are added, and the table of the
citizens' requests' parts (`personal_data_parts`).

A sealed value is randomised, so the notices' unique constraint uses `recipient_key` (a keyed hash
of the recipient under the ring, `KeyRing.digest`) instead of the recipient.

Downgrade opens every value again (with the same ring) and restores the old constraint; contacts
kept without a receipt and erased rows cannot go back to NOT NULL columns and are deleted.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from services.personal_data.requests import create_parts_table
from services.personal_data.rings import service_ring

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None
SCHEMA = "notify"

# As in notify.adapters.tables (a migration does not import the service's code, which moves on).
PURPOSES = {
    ("contacts", "name"): "notify.contacts.name",
    ("contacts", "phone"): "notify.contacts.phone",
    ("contacts", "email"): "notify.contacts.email",
    ("notices", "recipient"): "notify.notices.recipient",
    ("notices", "body"): "notify.notices.body",
    ("notices", "subject"): "notify.notices.subject",
    ("notices", "html_body"): "notify.notices.html_body",
    ("notices", "attachment"): "notify.notices.attachment",
}
RECIPIENT_KEY = "notify.notices.recipient_key"
KEYS = {"contacts": "dossier_id", "notices": "id"}


def _convert(table: str, change) -> None:  # noqa: ANN001 - a function of (column, value)
    bind = op.get_bind()
    columns = [c for t, c in PURPOSES if t == table]
    key = KEYS[table]
    rows = bind.execute(sa.text(f"SELECT {key}, {', '.join(columns)} FROM {SCHEMA}.{table}")).mappings().all()
    for row in rows:
        values = {c: change(table, c, row[c]) for c in columns}
        assignments = ", ".join(f"{c} = :{c}" for c in columns)
        bind.execute(sa.text(f"UPDATE {SCHEMA}.{table} SET {assignments} WHERE {key} = :key"), {**values, "key": row[key]})


def upgrade() -> None:
    keys = service_ring("notify")
    op.alter_column("contacts", "dossier_code", nullable=True, schema=SCHEMA)
    op.alter_column("contacts", "procedure_name", nullable=True, schema=SCHEMA)
    op.alter_column("contacts", "name", nullable=True, schema=SCHEMA)
    op.add_column("contacts", sa.Column("lookup_secret", sa.Text()), schema=SCHEMA)
    op.add_column("contacts", sa.Column("ended_at", sa.DateTime(timezone=True)), schema=SCHEMA)
    op.add_column("contacts", sa.Column("erased_at", sa.DateTime(timezone=True)), schema=SCHEMA)
    op.add_column("notices", sa.Column("recipient_key", sa.Text()), schema=SCHEMA)
    op.add_column("notices", sa.Column("erased_at", sa.DateTime(timezone=True)), schema=SCHEMA)

    bind = op.get_bind()
    for notice_id, recipient in bind.execute(sa.text(f"SELECT id, recipient FROM {SCHEMA}.notices")).all():
        bind.execute(
            sa.text(f"UPDATE {SCHEMA}.notices SET recipient_key = :k WHERE id = :id"),
            {"k": keys.digest(recipient, purpose=RECIPIENT_KEY), "id": notice_id},
        )

    def seal(table: str, column: str, value: str | None) -> str | None:
        if not value or keys.is_sealed(value):
            return value
        return keys.seal(value, purpose=PURPOSES[(table, column)])

    _convert("contacts", seal)
    _convert("notices", seal)
    op.alter_column("notices", "recipient_key", nullable=False, schema=SCHEMA)
    op.drop_constraint("uq_notify_notice_per_event", "notices", schema=SCHEMA)
    op.create_unique_constraint(
        "uq_notify_notice_per_event", "notices", ["dossier_id", "trigger_event_id", "channel", "recipient_key"], schema=SCHEMA
    )
    create_parts_table(SCHEMA)


def downgrade() -> None:
    keys = service_ring("notify")

    def open_(table: str, column: str, value: str | None) -> str | None:
        if not value or not keys.is_sealed(value):
            return value
        return keys.open(value, purpose=PURPOSES[(table, column)])

    op.drop_table("personal_data_parts", schema=SCHEMA)
    op.execute(f"DELETE FROM {SCHEMA}.contacts WHERE dossier_code IS NULL OR name IS NULL")
    _convert("contacts", open_)
    _convert("notices", open_)
    op.drop_constraint("uq_notify_notice_per_event", "notices", schema=SCHEMA)
    op.execute(f"DELETE FROM {SCHEMA}.notices WHERE recipient = ''")
    op.create_unique_constraint(
        "uq_notify_notice_per_event", "notices", ["dossier_id", "trigger_event_id", "channel", "recipient"], schema=SCHEMA
    )
    op.drop_column("notices", "erased_at", schema=SCHEMA)
    op.drop_column("notices", "recipient_key", schema=SCHEMA)
    op.drop_column("contacts", "erased_at", schema=SCHEMA)
    op.drop_column("contacts", "ended_at", schema=SCHEMA)
    op.drop_column("contacts", "lookup_secret", schema=SCHEMA)
    op.alter_column("contacts", "name", nullable=False, schema=SCHEMA)
    op.alter_column("contacts", "procedure_name", nullable=False, schema=SCHEMA)
    op.alter_column("contacts", "dossier_code", nullable=False, schema=SCHEMA)
