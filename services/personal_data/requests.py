"""A citizen's rights across the services (Decree 13/2023, art. 14–16): an operator asks intake for
everything held about a citizen id (export) or for it to be erased; intake finds the citizen's
dossiers by its blind index and sends `personal_data.requested` once per dossier. Each service then
does its own part here, in its own transaction: it exports what it holds about the dossier (kept
sealed in its `personal_data_parts` until the operator reads it at `GET /personal-data/requests/
{request_id}/held`), or erases it; it writes the act in its audit trail and answers
`personal_data.answered` with counts only, so no personal data crosses the backbone.

A service says what it holds through a `Holder`: `export` returns its records by data class,
`erase` erases or redacts them and says how many."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy import Column, DateTime, Integer, MetaData, PrimaryKeyConstraint, String, Table, Text, func
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import ACTOR_COLUMNS, actor_values
from services.db import driver_connection
from services.events import Envelope, parse
from services.events.envelope import Actor, current_actor
from services.events.schemas import PersonalDataAnswered, PersonalDataRequested
from services.messaging import Subscription
from services.messaging.outbox import Outbox
from services.personal_data.keys import KeyRing
from services.personal_data.retention import ERASED

PART_PURPOSE = "personal_data_parts.part"
Held = Mapping[str, Sequence[Mapping[str, Any]]]  # data class → its records


class Holder(Protocol):
    async def export(self, session: AsyncSession, dossier_id: str) -> Held: ...

    async def erase(self, session: AsyncSession, dossier_id: str) -> int: ...


def parts_table(metadata: MetaData) -> Table:
    return Table(
        "personal_data_parts",
        metadata,
        Column("request_id", String(64), nullable=False),
        Column("dossier_id", String(200), nullable=False),
        Column("kind", String(16), nullable=False),
        Column("records", Integer, nullable=False),
        Column("part", Text, nullable=False),  # sealed JSON of what was held (export), '' for an erasure
        Column("done_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("request_id", "dossier_id"),
    )


def create_parts_table(schema: str) -> None:
    """Alembic: the schema's `personal_data_parts`."""
    from alembic import op

    parts_table(MetaData(schema=schema)).create(op.get_bind())


class HeldPart(BaseModel):
    dossier_id: str
    kind: str
    records: int
    done_at: datetime
    held: dict[str, list[dict[str, Any]]]


def count(held: Held) -> int:
    return sum(len(records) for records in held.values())


async def record_part(
    session: AsyncSession,
    *,
    schema: str,
    service: str,
    keys: KeyRing,
    request_id: str,
    kind: str,
    dossier_id: str,
    held: Held | None,
    records: int,
) -> bool:
    """Keep a service's part of a request, and its line in the audit trail; False when this part was
    already done (a request is answered once per dossier)."""
    conn = await driver_connection(session)
    part = keys.seal_json(held, purpose=PART_PURPOSE) if held is not None else ""
    inserted = await conn.fetchval(
        f"INSERT INTO {schema}.personal_data_parts (request_id, dossier_id, kind, records, part) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT DO NOTHING RETURNING 1",
        request_id,
        dossier_id,
        kind,
        records,
        part,
    )
    if inserted is None:
        return False
    actor = current_actor.get() or Actor.service(service)
    await conn.execute(
        f"INSERT INTO {schema}.audit_trail ({ACTOR_COLUMNS}, action, dossier_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
        *actor_values(actor),
        f"personal_data:{kind}",
        dossier_id,
        json.dumps({"request_id": request_id, "records": records}),
    )
    if kind == "erasure" and records:
        ERASED.labels("all", "request").inc(records)
    return True


async def read_parts(session: AsyncSession, *, schema: str, keys: KeyRing, request_id: str) -> list[HeldPart]:
    rows = await (await driver_connection(session)).fetch(
        f"SELECT dossier_id, kind, records, part, done_at FROM {schema}.personal_data_parts WHERE request_id = $1 ORDER BY dossier_id",
        request_id,
    )
    return [
        HeldPart(
            dossier_id=r["dossier_id"],
            kind=r["kind"],
            records=r["records"],
            done_at=r["done_at"],
            held=keys.open_json(r["part"], purpose=PART_PURPOSE) if r["part"] else {},
        )
        for r in rows
    ]


def personal_data_subscription(
    *, service: str, schema: str, keys: KeyRing, outbox: Outbox, holder: Holder
) -> Subscription[AsyncSession]:
    """The consumer of intake's `personal_data.requested` for a service other than intake."""

    async def on_requested(session: AsyncSession, envelope: Envelope) -> None:
        event = parse(envelope, PersonalDataRequested)
        held: Held | None = None
        if event.kind == "export":
            held = await holder.export(session, envelope.dossier_id)
            records = count(held)
        else:
            records = await holder.erase(session, envelope.dossier_id)
        fresh = await record_part(
            session,
            schema=schema,
            service=service,
            keys=keys,
            request_id=event.request_id,
            kind=event.kind,
            dossier_id=envelope.dossier_id,
            held=held,
            records=records,
        )
        if fresh:
            answer = PersonalDataAnswered(request_id=event.request_id, kind=event.kind, service=service, records=records)
            await outbox.emit(session, answer, dossier_id=envelope.dossier_id, causation=envelope)

    return Subscription(name="personal-data", sources=("intake",), handlers={PersonalDataRequested.event_type: on_requested})
