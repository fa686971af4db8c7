"""A unit of work: one database transaction, and what a service's use cases work with inside it
(its repository, its outbox, its parking, bound to that transaction's session).

A use case that changes something takes a `UnitOfWork` and opens its transaction itself; a
consumer's handler is given the unit already bound to the consumer's transaction. Tests give use
cases a fake unit of work over an in-memory repository."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

U = TypeVar("U")
U_co = TypeVar("U_co", covariant=True)


class UnitOfWork(Protocol[U_co]):
    def __call__(self) -> AbstractAsyncContextManager[U_co]:
        """A transaction: what is done in the block commits when it ends without an error, else rolls back."""
        ...

    def read(self) -> AbstractAsyncContextManager[U_co]:
        """A session for reading only (nothing it does is committed)."""
        ...


class Transactions(Generic[U]):
    """The `UnitOfWork` of a service over its database: `bind` makes the unit from a session."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], bind: Callable[[AsyncSession], U]) -> None:
        self.sessionmaker = sessionmaker
        self.bind = bind

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[U]:
        async with self.sessionmaker() as session, session.begin():
            yield self.bind(session)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[U]:
        async with self.sessionmaker() as session:
            yield self.bind(session)
