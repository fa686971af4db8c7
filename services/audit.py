"""Each service's append-only audit trail: every state change (each event it emits, written in the
same statement as the outbox row) and every read of a dossier's personal data, with the actor.

The table refuses UPDATE, DELETE and TRUNCATE (a trigger), so a row once written stays as written;
the operator and the province administrator read it at `GET /audit-trail`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, DateTime, Index, MetaData, String, Table, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import driver_connection
from services.events.envelope import Actor, current_actor

ACTOR_COLUMNS = "actor_kind, actor_subject, actor_name, actor_unit"


def audit_table(metadata: MetaData) -> Table:
    schema = metadata.schema
    return Table(
        "audit_trail",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
        Column("actor_kind", String(20), nullable=False),
        Column("actor_subject", String(200), nullable=False),
        Column("actor_name", String(200), nullable=False),
        Column("actor_unit", String(100)),
        Column("action", String(100), nullable=False),
        Column("dossier_id", String(200)),
        Column("event_id", UUID(as_uuid=True)),
        Column("detail", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Index(f"ix_{schema}_audit_trail_dossier", "dossier_id", "id"),
    )


def create_audit_trail(schema: str) -> None:
    """Alembic: the schema's audit trail, and the trigger that makes it append-only."""
    from alembic import op

    audit_table(MetaData(schema=schema)).create(op.get_bind())
    op.execute(
        f"""CREATE FUNCTION {schema}.audit_trail_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege'; END $$"""
    )
    op.execute(
        f"""CREATE TRIGGER audit_trail_append_only BEFORE UPDATE OR DELETE ON {schema}.audit_trail
        FOR EACH ROW EXECUTE FUNCTION {schema}.audit_trail_append_only()"""
    )
    op.execute(
        f"""CREATE TRIGGER audit_trail_no_truncate BEFORE TRUNCATE ON {schema}.audit_trail
        FOR EACH STATEMENT EXECUTE FUNCTION {schema}.audit_trail_append_only()"""
    )


def drop_audit_trail(schema: str) -> None:
    from alembic import op

    op.execute(f"DROP TABLE IF EXISTS {schema}.audit_trail")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.audit_trail_append_only()")


def actor_values(actor: Actor) -> tuple[str, str, str, str | None]:
    return actor.kind, actor.subject, actor.name, actor.unit


class AuditTrail(Protocol):
    """Where a use case records that personal data of dossiers was read, in its own transaction."""

    async def read(self, what: str, dossier_ids: Sequence[str], **detail: Any) -> None: ...


class SessionAudit:
    """The audit trail of one service, bound to one session. The actor is the caller of the
    request (`current_actor`), or the service itself."""

    __slots__ = ("insert", "service", "session")

    def __init__(self, schema: str, service: str, session: AsyncSession) -> None:
        self.session = session
        self.service = service
        self.insert = (
            f"INSERT INTO {schema}.audit_trail ({ACTOR_COLUMNS}, action, dossier_id, detail) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)"
        )

    async def read(self, what: str, dossier_ids: Sequence[str], **detail: Any) -> None:
        if not dossier_ids:
            return
        actor = current_actor.get() or Actor.service(self.service)
        body = json.dumps(detail, ensure_ascii=False, default=str)
        rows = [(*actor_values(actor), f"read:{what}", str(d), body) for d in dossier_ids]
        await (await driver_connection(self.session)).executemany(self.insert, rows)


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor_kind: str
    actor_subject: str
    actor_name: str
    actor_unit: str | None
    action: str
    dossier_id: str | None
    event_id: str | None
    detail: dict[str, Any]


async def audit_entries(
    session: AsyncSession, schema: str, *, dossier_id: str | None, after_id: int, limit: int
) -> list[AuditEntry]:
    conn = await driver_connection(session)
    rows = await conn.fetch(
        f"SELECT id, at, {ACTOR_COLUMNS}, action, dossier_id, event_id::text AS event_id, detail FROM {schema}.audit_trail "
        "WHERE ($1::text IS NULL OR dossier_id = $1) AND id > $2 ORDER BY id LIMIT $3",
        dossier_id,
        after_id,
        limit,
    )
    return [
        AuditEntry(**{**dict(r), "detail": json.loads(r["detail"]) if isinstance(r["detail"], str) else r["detail"]})
        for r in rows
    ]
