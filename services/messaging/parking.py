"""Parking: events read before the event they follow, kept per dossier until it comes.

A service reads several topics independently (and its replicas read different partitions), so an
event about a dossier can arrive before the dossier's receipt, or a citizen's answer before the
request it answers. Such an event is parked in the service's `parked_events` table and applied,
in the order it was read, once what it waits for has been applied.

Every step runs under a per-dossier transaction lock (`hold`): the check "has the receipt been
applied?" and the parking that follows it are one step against the receipt and the release that
follows it. Without it, one replica could park an event just after another applied the receipt
and released the dossier's parked events, and the event would stay parked for ever."""

from __future__ import annotations

import logging
from typing import Protocol
from uuid import UUID

from sqlalchemy import BigInteger, Column, DateTime, Index, MetaData, Table, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import driver_connection
from services.events import Envelope

log = logging.getLogger(__name__)

_HELD = "motcua.parking.held"


def parked_events_table(metadata: MetaData) -> Table:
    schema = metadata.schema
    return Table(
        "parked_events",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("dossier_id", PgUUID(as_uuid=True), nullable=False),
        Column("envelope", JSONB, nullable=False),
        Column("parked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index(f"ix_{schema}_parked_events_dossier_id", "dossier_id"),
    )


class EventParking(Protocol):
    """What a use case does with events that came too early, within its transaction."""

    async def hold(self, dossier_id: str) -> None: ...

    async def park(self, envelope: Envelope) -> None: ...

    async def release(self, dossier_id: str) -> list[Envelope]: ...


class Parking:
    """A service's parked events (its `parked_events` table)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.lock_scope = f"{table.schema}:"
        name = f"{table.schema}.{table.name}"
        self._insert = f"INSERT INTO {name} (dossier_id, envelope) VALUES ($1, $2::jsonb)"
        self._release = f"DELETE FROM {name} WHERE dossier_id = $1 RETURNING id, envelope::text"
        self._count = f"SELECT count(*) FROM {name}"

    async def hold(self, session: AsyncSession, dossier_id: str) -> None:
        """Take the dossier's lock until the transaction ends (once per transaction: it is re-entrant)."""
        # A lock taken in a savepoint that rolls back is released with it: remember the innermost transaction.
        held = session.info.setdefault(_HELD, {})
        transaction = session.get_nested_transaction() or session.get_transaction()
        if transaction is not None and held.get(dossier_id) is transaction:
            return
        await (await driver_connection(session)).execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", self.lock_scope + dossier_id
        )
        held[dossier_id] = session.get_nested_transaction() or session.get_transaction()

    async def park(self, session: AsyncSession, envelope: Envelope) -> None:
        await self.hold(session, envelope.dossier_id)
        log.info("event %s about dossier %s waits for what it follows", envelope.type, envelope.dossier_id)
        await (await driver_connection(session)).execute(self._insert, UUID(envelope.dossier_id), envelope.model_dump_json())

    async def release(self, session: AsyncSession, dossier_id: str) -> list[Envelope]:
        """The events parked for this dossier, in the order they were read; removed."""
        await self.hold(session, dossier_id)
        rows = await (await driver_connection(session)).fetch(self._release, UUID(dossier_id))
        return [Envelope.model_validate_json(raw) for _, raw in sorted(rows, key=lambda r: r[0])]

    async def count(self, session: AsyncSession) -> int:
        return int(await (await driver_connection(session)).fetchval(self._count))

    def bind(self, session: AsyncSession) -> SessionParking:
        return SessionParking(self, session)


class SessionParking:
    """A service's parking bound to one session: the `EventParking` a use case is given."""

    __slots__ = ("parking", "session")

    def __init__(self, parking: Parking, session: AsyncSession) -> None:
        self.parking = parking
        self.session = session

    async def hold(self, dossier_id: str) -> None:
        await self.parking.hold(self.session, dossier_id)

    async def park(self, envelope: Envelope) -> None:
        await self.parking.park(self.session, envelope)

    async def release(self, dossier_id: str) -> list[Envelope]:
        return await self.parking.release(self.session, dossier_id)
