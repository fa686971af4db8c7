"""Personal data (Decree 13/2023): the applicant's name sealed under routing's key ring and NULL
once erased, the portal pushes kept without it (it is put back when a push is sent), and the table
of routing's parts of the citizens' export and erasure requests.

Downgrade opens the names again (with the same ring) and puts them back into the portal pushes;
names erased meanwhile stay empty ('').

Revision ID: 0007
"""

import json

import sqlalchemy as sa
from alembic import op

from services.personal_data.requests import create_parts_table
from services.personal_data.rings import service_ring

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None
SCHEMA = "routing"
PURPOSE = "routing.dossiers.applicant_name"  # routing.adapters.personal_data.APPLICANT_PURPOSE
BATCH = 1000


def _rows(sql: str) -> list[tuple]:
    return [tuple(r) for r in op.get_bind().execute(sa.text(sql)).fetchall()]


def _run(sql: str, **params: object) -> None:
    op.get_bind().execute(sa.text(sql), params)


def upgrade() -> None:
    keys = service_ring("routing")
    op.alter_column("dossiers", "applicant_name", nullable=True, schema=SCHEMA)
    _run(f"UPDATE {SCHEMA}.dossiers SET applicant_name = NULL WHERE applicant_name = ''")
    while rows := _rows(
        f"SELECT dossier_id, applicant_name FROM {SCHEMA}.dossiers "
        f"WHERE applicant_name IS NOT NULL AND applicant_name NOT LIKE 'pd1.%' LIMIT {BATCH}"
    ):
        for dossier_id, name in rows:
            _run(
                f"UPDATE {SCHEMA}.dossiers SET applicant_name = :name WHERE dossier_id = :id",
                name=keys.seal(name, purpose=PURPOSE),
                id=dossier_id,
            )
    _run(f"UPDATE {SCHEMA}.portal_pushes SET payload = payload - 'ChuHoSo' WHERE payload ? 'ChuHoSo'")
    create_parts_table(SCHEMA)


def downgrade() -> None:
    keys = service_ring("routing")
    op.drop_table("personal_data_parts", schema=SCHEMA)
    while rows := _rows(
        f"SELECT dossier_id, applicant_name FROM {SCHEMA}.dossiers WHERE applicant_name LIKE 'pd1.%' LIMIT {BATCH}"
    ):
        for dossier_id, token in rows:
            _run(
                f"UPDATE {SCHEMA}.dossiers SET applicant_name = :name WHERE dossier_id = :id",
                name=keys.open(token, purpose=PURPOSE),
                id=dossier_id,
            )
    _run(f"UPDATE {SCHEMA}.dossiers SET applicant_name = '' WHERE applicant_name IS NULL")
    op.alter_column("dossiers", "applicant_name", nullable=False, schema=SCHEMA)
    for push_id, payload, name in _rows(
        f"SELECT p.id, p.payload, d.applicant_name FROM {SCHEMA}.portal_pushes p "
        f"JOIN {SCHEMA}.dossiers d USING (dossier_id) WHERE NOT p.payload ? 'ChuHoSo'"
    ):
        record = payload if isinstance(payload, dict) else json.loads(payload)
        _run(
            f"UPDATE {SCHEMA}.portal_pushes SET payload = CAST(:payload AS jsonb) WHERE id = :id",
            payload=json.dumps({**record, "ChuHoSo": name}, ensure_ascii=False),
            id=push_id,
        )
