"""The outbox, inbox and dead-letter tables, created in each service's own schema."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID


@dataclass(frozen=True)
class MessagingTables:
    schema: str
    outbox: Table
    inbox: Table
    dead_letters: Table
    relay_lease: Table

    @property
    def notify_channel(self) -> str:
        return f"{self.schema}_outbox"


def messaging_tables(metadata: MetaData) -> MessagingTables:
    schema = metadata.schema
    if not schema:
        raise ValueError("messaging tables live in a service's own schema: give MetaData(schema=...)")
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("message", JSONB, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Index(f"ix_{schema}_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("outcome", String(20), nullable=False, server_default="applied"),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    dead_letters = Table(
        "dead_letters",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("consumer", String(100), nullable=False),
        Column("event_id", UUID(as_uuid=True)),
        Column("topic", String(200), nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("raw", Text, nullable=False),
        Column("error", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("failed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("replayed_at", DateTime(timezone=True)),
    )
    # The outbox relay's leadership: one row, held until `expires_at` unless renewed; `epoch` grows
    # at each takeover, and the holder marks rows sent only while the row still carries its epoch.
    relay_lease = Table(
        "relay_lease",
        metadata,
        Column("name", String(100), primary_key=True),
        Column("holder", String(200), nullable=False),
        Column("epoch", BigInteger, nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False),
    )
    return MessagingTables(schema, outbox, inbox, dead_letters, relay_lease)
