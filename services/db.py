"""The async SQLAlchemy engine and session factory of a service."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from services.settings import ServiceSettings


def create_engine(settings: ServiceSettings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        # No overflow: connections past the pool were closed as soon as they were returned, so a
        # burst opened (and set up, and prepared statements on) a new connection per transaction.
        # Past the pool, callers wait their turn.
        max_overflow=0,
        pool_timeout=5,  # past this, a request answers 503 instead of queueing on
        # No ping before each checkout (a round trip per transaction): a connection that died with
        # the server fails its statement, SQLAlchemy then discards the pool, and the caller retries
        # (consumers re-read the batch; the API answers 503 with Retry-After).
        pool_pre_ping=False,
        pool_recycle=1800,
        hide_parameters=True,  # a failed statement's message must not carry citizen ids or phone numbers into the log
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def asyncpg_dsn(database_url: str) -> str:
    """The plain libpq URL of a SQLAlchemy URL, for raw asyncpg connections (LISTEN, advisory locks)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)
