"""Listing and replaying dead letters once the cause (a bug, missing data) has been fixed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.events import Envelope
from services.messaging.consumer import DEAD_LETTER_PURPOSE, IdempotentConsumer
from services.messaging.tables import MessagingTables
from services.personal_data.keys import KeyRing
from services.personal_data.redaction import describe


class DeadLetter(BaseModel):
    id: int
    consumer: str
    event_id: str | None
    topic: str
    partition: int
    offset: int
    error: str
    attempts: int
    failed_at: datetime
    replayed_at: datetime | None


class ReplayError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


async def list_dead_letters(
    sessionmaker: async_sessionmaker[AsyncSession], tables: MessagingTables, *, pending_only: bool = True, limit: int = 100
) -> list[DeadLetter]:
    dl = tables.dead_letters
    query = select(dl).order_by(dl.c.id).limit(limit)
    if pending_only:
        query = query.where(dl.c.replayed_at.is_(None))
    async with sessionmaker() as session:
        rows = (await session.execute(query)).mappings().all()
    return [DeadLetter.model_validate({**row, "event_id": str(row["event_id"]) if row["event_id"] else None}) for row in rows]


async def replay_dead_letter(
    sessionmaker: async_sessionmaker[AsyncSession],
    tables: MessagingTables,
    consumers: Mapping[str, IdempotentConsumer],
    dead_letter_id: int,
) -> dict[str, Any]:
    """Run the message's handler again; on success it counts as applied, once, like any other."""
    dl, inbox = tables.dead_letters, tables.inbox
    async with sessionmaker() as session, session.begin():
        row = (await session.execute(select(dl).where(dl.c.id == dead_letter_id).with_for_update())).mappings().first()
        if row is None:
            raise ReplayError(404, f"no dead letter {dead_letter_id}")
        if row["replayed_at"] is not None:
            raise ReplayError(409, f"dead letter {dead_letter_id} was already replayed at {row['replayed_at'].isoformat()}")
        consumer = consumers.get(row["consumer"])
        if consumer is None:
            raise ReplayError(409, f"no consumer named {row['consumer']} in this service")
        raw = row["raw"]
        if not raw:
            raise ReplayError(410, f"dead letter {dead_letter_id} no longer holds its message: erased under retention")
        if KeyRing.is_sealed(raw):
            if consumer.keys is None:
                raise ReplayError(409, "the message is sealed and this process holds no personal data keys")
            raw = consumer.keys.open(raw, purpose=DEAD_LETTER_PURPOSE)
        try:
            envelope = Envelope.from_bytes(raw.encode())
        except ValueError as exc:
            raise ReplayError(422, f"the message cannot be read as an event: {describe(exc)}") from exc
        if envelope.type not in consumer.subscription.handlers:
            raise ReplayError(409, f"consumer {row['consumer']} has no handler for {envelope.type}")
        try:
            async with session.begin_nested():
                await consumer.subscription.handle(session, envelope)
        except Exception as exc:
            raise ReplayError(409, f"the handler failed again: {describe(exc)}") from exc
        await session.execute(
            insert(inbox)
            .values(consumer=row["consumer"], event_id=envelope.event_id, outcome="applied")
            .on_conflict_do_update(index_elements=[inbox.c.consumer, inbox.c.event_id], set_={"outcome": "applied"})
        )
        await session.execute(update(dl).where(dl.c.id == dead_letter_id).values(replayed_at=func.now()))
    return {"id": dead_letter_id, "event_id": str(envelope.event_id), "type": envelope.type, "replayed": True}
