"""Alembic, shared: each service keeps its own migration scripts and version table in its own schema.

A service's `migrations/env.py` is two lines: import the service's MetaData and call
`run_env(metadata)`. `upgrade(...)` runs them to head; replicas starting together take turns
under an advisory lock."""

from __future__ import annotations

import asyncio
import zlib
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(migrations_dir: Path, database_url: str, revision: str = "head") -> None:
    """Run from synchronous code (a service's start, a test fixture): it runs its own event loop."""
    command.upgrade(alembic_config(migrations_dir, database_url), revision)


def run_env(metadata: MetaData) -> None:
    schema = metadata.schema
    assert schema, "a service's MetaData names its schema"
    url = context.config.get_main_option("sqlalchemy.url")

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=False,
            transaction_per_migration=False,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(f"{schema}.migrations".encode())}
                )
                # A service's own login owns its schema, made for it beforehand (`infra.stack`), and may
                # not create schemas: PostgreSQL checks that right even for `IF NOT EXISTS`.
                exists = await conn.scalar(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema})
                if not exists:
                    await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                await conn.run_sync(run)
                await conn.commit()
        finally:
            await engine.dispose()

    asyncio.run(main())
