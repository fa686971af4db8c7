"""Personal data sealed at rest (Decree 13/2023): the applicant JSON moves to `applicant_sealed`
and `applicant_name` is sealed in place, both under intake's key ring (`service_ring("intake")`,
the key id travelling with each value); blind indexes of the citizen id, phone and full name are
added for staff search; the first answers kept for Idempotency-Keys and LGSP nonces are sealed;
requests of citizens for an export or erasure get their table, and the kernel's
`personal_data_parts`. Every existing row is converted here: nothing stays in clear.

The downgrade opens the values again (with the same ring) into the plain columns.

Revision ID: 0008
"""

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from services.personal_data.requests import create_parts_table
from services.personal_data.rings import service_ring

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None
SCHEMA = "intake"

APPLICANT_PURPOSE = "intake.dossiers.applicant"
NAME_PURPOSE = "intake.dossiers.applicant_name"
RESPONSES = {"idempotency_keys": "intake.idempotency_keys.response", "inbound_nonces": "intake.inbound_nonces.response"}
KEYS = {"idempotency_keys": "key", "inbound_nonces": "client_id || '|' || nonce"}


class _Ring:
    """The ring, taken only when there is a row to convert (an empty database needs no key)."""

    def __getattr__(self, name: str):  # noqa: ANN204
        ring = service_ring("intake")
        self.__dict__.update({n: getattr(ring, n) for n in ("seal", "seal_json", "open", "open_json", "index", "is_sealed")})
        return getattr(ring, name)


def upgrade() -> None:
    keys = _Ring()
    bind = op.get_bind()
    for column in ("citizen_id_index", "phone_index", "name_index"):
        op.add_column("dossiers", sa.Column(column, sa.String(64)), schema=SCHEMA)
        op.create_index(f"ix_intake_dossiers_{column}", "dossiers", [column], schema=SCHEMA)
    op.add_column("dossiers", sa.Column("applicant_sealed", sa.Text), schema=SCHEMA)
    op.add_column("dossiers", sa.Column("applicant_erased_at", sa.DateTime(timezone=True)), schema=SCHEMA)
    rows = bind.execute(sa.text(f"SELECT id, applicant::text AS applicant, applicant_name FROM {SCHEMA}.dossiers")).all()
    update = sa.text(
        f"UPDATE {SCHEMA}.dossiers SET applicant_sealed = :sealed, applicant_name = :name, "
        "citizen_id_index = :citizen_id, phone_index = :phone, name_index = :name_index WHERE id = :id"
    )
    for row in rows:
        applicant = json.loads(row.applicant)
        name = row.applicant_name or applicant.get("name") or ""
        bind.execute(
            update,
            {
                "id": row.id,
                "sealed": keys.seal_json(applicant, purpose=APPLICANT_PURPOSE),
                "name": keys.seal(name, purpose=NAME_PURPOSE),
                "citizen_id": keys.index(applicant.get("citizen_id"), kind="citizen_id"),
                "phone": keys.index(applicant.get("phone"), kind="phone"),
                "name_index": keys.index(name, kind="name"),
            },
        )
    op.drop_column("dossiers", "applicant", schema=SCHEMA)

    for table, purpose in RESPONSES.items():
        op.alter_column(table, "response", type_=sa.Text, postgresql_using="response::text", schema=SCHEMA)
        key = KEYS[table]
        found = bind.execute(sa.text(f"SELECT {key} AS k, response FROM {SCHEMA}.{table} WHERE response IS NOT NULL")).all()
        for row in found:
            bind.execute(
                sa.text(f"UPDATE {SCHEMA}.{table} SET response = :sealed WHERE {key} = :k"),
                {"k": row.k, "sealed": keys.seal(row.response, purpose=purpose)},
            )

    op.create_table(
        "personal_data_requests",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("citizen_id_index", sa.String(64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requester", JSONB, nullable=False),
        sa.Column("dossier_ids", JSONB, nullable=False),
        sa.Column("kept", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("answers", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        schema=SCHEMA,
    )
    create_parts_table(SCHEMA)


def downgrade() -> None:
    keys = _Ring()
    bind = op.get_bind()
    op.drop_table("personal_data_parts", schema=SCHEMA)
    op.drop_table("personal_data_requests", schema=SCHEMA)
    for table, purpose in RESPONSES.items():
        key = KEYS[table]
        found = bind.execute(sa.text(f"SELECT {key} AS k, response FROM {SCHEMA}.{table} WHERE response IS NOT NULL")).all()
        for row in found:
            bind.execute(
                sa.text(f"UPDATE {SCHEMA}.{table} SET response = :plain WHERE {key} = :k"),
                {"k": row.k, "plain": keys.open(row.response, purpose=purpose)},
            )
        op.alter_column(table, "response", type_=JSONB, postgresql_using="response::jsonb", schema=SCHEMA)
    op.add_column("dossiers", sa.Column("applicant", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")), schema=SCHEMA)
    rows = bind.execute(sa.text(f"SELECT id, applicant_sealed, applicant_name FROM {SCHEMA}.dossiers")).all()
    for row in rows:
        name = keys.open(row.applicant_name, purpose=NAME_PURPOSE) if keys.is_sealed(row.applicant_name) else row.applicant_name
        applicant = keys.open_json(row.applicant_sealed, purpose=APPLICANT_PURPOSE) if row.applicant_sealed else {"name": name}
        bind.execute(
            sa.text(f"UPDATE {SCHEMA}.dossiers SET applicant = CAST(:applicant AS jsonb), applicant_name = :name WHERE id = :id"),
            {"id": row.id, "applicant": json.dumps(applicant, ensure_ascii=False), "name": name},
        )
    op.alter_column("dossiers", "applicant", server_default=None, schema=SCHEMA)
    for column in ("applicant_erased_at", "applicant_sealed"):
        op.drop_column("dossiers", column, schema=SCHEMA)
    for column in ("citizen_id_index", "phone_index", "name_index"):
        op.drop_index(f"ix_intake_dossiers_{column}", "dossiers", schema=SCHEMA)
        op.drop_column("dossiers", column, schema=SCHEMA)
