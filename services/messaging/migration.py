"""Alembic operations shared by every service's first migration."""

from __future__ import annotations

from alembic import op
from sqlalchemy import MetaData

from services.messaging.parking import parked_events_table
from services.messaging.tables import MessagingTables, messaging_tables


def wake_relay_trigger(tables: MessagingTables) -> list[str]:
    """SQL for the trigger that NOTIFYs the relay when rows are added to the outbox."""
    schema = tables.schema
    return [
        f"""CREATE FUNCTION {schema}.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('{tables.notify_channel}', ''); RETURN NULL; END $$""",
        f"""CREATE TRIGGER outbox_notify AFTER INSERT ON {schema}.outbox
        FOR EACH STATEMENT EXECUTE FUNCTION {schema}.outbox_notify()""",
    ]


def create_messaging_tables(schema: str) -> None:
    """Create the schema's outbox, inbox and dead letters, and the trigger that wakes the relay."""
    bind = op.get_bind()
    tables = messaging_tables(MetaData(schema=schema))
    for table in (tables.outbox, tables.inbox, tables.dead_letters):
        table.create(bind)
    for statement in wake_relay_trigger(tables):
        op.execute(statement)


def create_relay_lease(schema: str) -> None:
    """Create the schema's relay lease (added after the first migration: see `OutboxRelay`)."""
    messaging_tables(MetaData(schema=schema)).relay_lease.create(op.get_bind())


def drop_relay_lease(schema: str) -> None:
    op.drop_table("relay_lease", schema=schema)


def create_parked_events(schema: str) -> None:
    """Create the schema's parked events (`services.messaging.parking`), with their index."""
    parked_events_table(MetaData(schema=schema)).create(op.get_bind())


def drop_messaging_tables(schema: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS outbox_notify ON {schema}.outbox")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.outbox_notify()")
    for name in ("dead_letters", "inbox", "outbox"):
        op.drop_table(name, schema=schema)
