"""What runs inside one service process: the web API, the outbox relay, the consumers and any
background workers, started and stopped together. `main(definition)` is each service's entry point:

    python -m intake              migrate, then serve (API + relay + consumers)
    python -m intake migrate      apply the service's migrations only
    python -m intake dead-letters [--replay ID]
    python -m intake retention    apply the personal-data retention rules once
    python -m intake reseal       move every sealed value to the newest key now
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

import uvicorn
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import APIRouter, FastAPI
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.audit import SessionAudit
from services.db import create_engine, create_sessionmaker
from services.identity import TokenVerifier
from services.kafka import create_admin, ensure_topics
from services.logging import configure_logging
from services.messaging import IdempotentConsumer, MessagingTables, Outbox, OutboxRelay, Subscription
from services.messaging.backlog import export, read_backlog
from services.messaging.consumer import DEAD_LETTER_PURPOSE
from services.messaging.dead_letters import ReplayError, list_dead_letters, replay_dead_letter
from services.migrations import upgrade
from services.personal_data.keys import SealError
from services.personal_data.retention import RetentionRule, enforce
from services.personal_data.rings import service_ring
from services.personal_data.rotation import SealedColumn, reseal_round
from services.settings import ServiceSettings
from services.tracing import wanted as tracing_wanted
from services.web import create_app
from services.work_queue import backoff_seconds, wait_for, work_loop

log = logging.getLogger(__name__)

S = TypeVar("S", bound=ServiceSettings)
C = TypeVar("C")
# A background worker gets the service's wiring and the event that tells it to stop.
Worker = Callable[[C, asyncio.Event], Awaitable[None]]


def _nothing(wiring: Any) -> Sequence[Subscription[Any]]:
    return ()


def _no_rules(settings: Any) -> Sequence[RetentionRule]:
    return ()


# Sets a service's own gauges from its tables at each scrape of /metrics (timers due, deliveries
# failing...); given the runtime for its engine and settings.
Scrape = Callable[["Runtime[Any, Any]"], Awaitable[None]]


@dataclass(frozen=True)
class ServiceDefinition(Generic[S, C]):
    """A service: its name, tables and migrations, settings class, and `wire`, which builds from
    the runtime (settings, sessions, outbox) the one object its routes, consumers and workers are
    given (their typed dependencies)."""

    name: str
    title: str
    description: str
    tables: MessagingTables
    migrations: Path
    settings_class: type[S]
    wire: Callable[[Runtime[S, C]], C]
    subscriptions: Callable[[C], Sequence[Subscription[Any]]] = _nothing
    routers: Sequence[APIRouter] = ()
    workers: Sequence[Worker[C]] = field(default_factory=tuple)
    scrape: Scrape | None = None
    # Personal data (services.personal_data): the columns the service seals, moved to a new key in
    # the background, and its retention rules (the kernel adds its own for dead letters).
    sealed_columns: Sequence[SealedColumn] = ()
    retention: Callable[[S], Sequence[RetentionRule]] = _no_rules


class Runtime(Generic[S, C]):
    def __init__(self, definition: ServiceDefinition[S, C], settings: S | None = None) -> None:
        self.definition = definition
        self.settings: S = settings or definition.settings_class(service_name=definition.name)
        self.tables = definition.tables
        self.engine = create_engine(self.settings)
        self.sessionmaker = create_sessionmaker(self.engine)
        self.outbox = Outbox(self.tables, service=definition.name, topic_prefix=self.settings.topic_prefix)
        self.verifier = TokenVerifier(
            self.settings.oidc_issuer, self.settings.oidc_audience, jwks_url=self.settings.oidc_jwks_url
        )
        self.relay = OutboxRelay(self.settings, self.engine, self.tables)
        self.keys = service_ring(definition.name)
        self.wiring: C = definition.wire(self)
        self.consumers = {
            s.name: IdempotentConsumer(self.settings, self.sessionmaker, self.outbox, s, keys=self.keys)
            for s in definition.subscriptions(self.wiring)
        }
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._admin: AIOKafkaAdminClient | None = None

    def audit(self, session: AsyncSession) -> SessionAudit:
        """The service's audit trail bound to `session` (for a unit of work's `audit`)."""
        return SessionAudit(self.tables.schema, self.definition.name, session)

    async def start(self) -> None:
        self._stop.clear()
        self._tasks = [asyncio.create_task(self._background(), name=f"{self.definition.name}-background")]

    async def _background(self) -> None:
        failures = 0
        while not self._stop.is_set():  # the API serves from the outbox even while the broker is away
            try:
                await ensure_topics(self.settings)
                break
            except Exception as exc:
                failures += 1
                log.warning("cannot create topics yet (%s); retrying", exc)
                await wait_for(self._stop, backoff_seconds(failures, 0.5, 10.0))
        workers = [self.relay.run(self._stop)]
        workers += [c.run(self._stop) for c in self.consumers.values()]
        workers += [w(self.wiring, self._stop) for w in self.definition.workers]
        workers += [self._retention(self._stop), self._rotation(self._stop)]
        await asyncio.gather(*workers)

    @property
    def sealed_columns(self) -> list[SealedColumn]:
        schema = self.tables.schema
        return [SealedColumn(f"{schema}.dead_letters", "id", "raw", DEAD_LETTER_PURPOSE), *self.definition.sealed_columns]

    @property
    def retention_rules(self) -> list[RetentionRule]:
        schema = self.tables.schema
        dead_letters = RetentionRule(
            "dead_letter_payloads",
            timedelta(days=self.settings.retention_dead_letter_days),
            f"UPDATE {schema}.dead_letters SET raw = '' WHERE id IN (SELECT id FROM {schema}.dead_letters "
            "WHERE raw <> '' AND failed_at < $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING NULL::text AS dossier_id",
        )
        return [dead_letters, *self.definition.retention(self.settings)]

    async def enforce_retention(self, now: datetime | None = None) -> dict[str, int]:
        """One run of the retention job (the worker's round; the operator's `retention` command)."""
        return await enforce(
            self.sessionmaker, self.tables.schema, self.definition.name, self.retention_rules, now or datetime.now(UTC)
        )

    async def _retention(self, stop: asyncio.Event) -> None:
        async def round_() -> int:
            await self.enforce_retention()
            return 0  # then wait the interval

        await work_loop("retention", round_, stop, idle_seconds=self.settings.retention_interval_seconds)

    async def _rotation(self, stop: asyncio.Event) -> None:
        async def round_() -> int:
            return await reseal_round(self.sessionmaker, self.keys, self.sealed_columns)

        await work_loop("key rotation", round_, stop, idle_seconds=self.settings.rotation_interval_seconds)

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, 10)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
            except Exception:
                log.exception("background task failed during shutdown")
        if self._admin is not None:
            await self._admin.close()
            self._admin = None
        await self.verifier.close()
        await self.engine.dispose()

    async def refresh_backlog_metrics(self) -> None:
        """Set the backlog gauges, and the service's own, from its tables; a database away leaves
        the last values (each read is bounded, so a scrape never hangs on it)."""
        try:
            export(await asyncio.wait_for(read_backlog(self.engine, self.tables), 2))
        except Exception as exc:
            log.warning("cannot read the messaging backlog for /metrics (%s)", exc)
        if self.definition.scrape is not None:
            try:
                await asyncio.wait_for(self.definition.scrape(self), 2)
            except Exception as exc:
                log.warning("cannot read %s's gauges for /metrics (%s)", self.definition.name, exc)

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            async with self.engine.connect() as conn:
                await asyncio.wait_for(conn.execute(text("SELECT 1")), 2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        try:
            if self._admin is None:
                self._admin = create_admin(self.settings, request_timeout_ms=2000)
                await asyncio.wait_for(self._admin.start(), 3)
            await asyncio.wait_for(self._admin.describe_cluster(), 3)
            checks["kafka"] = "ok"
        except Exception as exc:
            checks["kafka"] = f"error: {type(exc).__name__}"
            if self._admin is not None:
                await self._admin.close()
                self._admin = None
        return checks


def build_app(definition: ServiceDefinition[S, C], settings: S | None = None) -> FastAPI:
    runtime = Runtime(definition, settings)
    return create_app(runtime, title=definition.title, description=definition.description, routers=definition.routers)


def main(definition: ServiceDefinition[Any, Any], argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {definition.name}", description=definition.title)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="apply migrations, then serve the API, relay and consumers (default)")
    sub.add_parser("migrate", help="apply migrations and exit")
    dl = sub.add_parser("dead-letters", help="list dead letters, or replay one")
    dl.add_argument("--replay", type=int, metavar="ID")
    sub.add_parser("openapi", help="print the OpenAPI document")
    sub.add_parser("retention", help="apply the personal-data retention rules once and print what was erased")
    sub.add_parser("reseal", help="move every sealed value to the ring's first key now, and print how many moved")
    args = parser.parse_args(argv)
    try:
        settings = definition.settings_class(service_name=definition.name)
    except ValidationError as exc:
        names = ", ".join(str(e["loc"][0]) for e in exc.errors())
        print(f"{definition.name}: cannot start, its settings are missing or wrong: {names}\n{exc}", file=sys.stderr)
        return 2
    configure_logging(definition.name, settings.log_level)
    try:
        service_ring(definition.name)
    except SealError as exc:
        print(f"{definition.name}: cannot start: {exc}", file=sys.stderr)
        return 2

    if args.command == "openapi":
        print(json.dumps(build_app(definition, settings).openapi(), indent=2, ensure_ascii=False))
        return 0
    if args.command in (None, "serve", "migrate"):
        upgrade(definition.migrations, settings.database_url)
        if args.command == "migrate":
            return 0
        tracing_on = tracing_wanted(os.environ)
        if tracing_on:  # the SDK and its exporters are imported only then
            from services.tracing_export import configure_tracing

            configure_tracing(definition.name)
        app = build_app(definition, settings)
        config = uvicorn.Config(app, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False)
        try:
            uvicorn.Server(config).run()
        finally:
            if tracing_on:
                from services.tracing_export import shutdown_tracing

                shutdown_tracing()
        return 0
    if args.command in ("retention", "reseal"):
        return asyncio.run(_personal_data_cli(definition, settings, args.command))
    return asyncio.run(_dead_letters_cli(definition, settings, args.replay))


async def _personal_data_cli(definition: ServiceDefinition[Any, Any], settings: ServiceSettings, command: str) -> int:
    runtime = Runtime(definition, settings)
    try:
        if command == "retention":
            print(json.dumps(await runtime.enforce_retention()))
            return 0
        moved = 0
        while done := await reseal_round(runtime.sessionmaker, runtime.keys, runtime.sealed_columns):
            moved += done
        print(json.dumps({"resealed": moved, "key": runtime.keys.active}))
        return 0
    finally:
        await runtime.engine.dispose()


async def _dead_letters_cli(definition: ServiceDefinition[Any, Any], settings: ServiceSettings, replay: int | None) -> int:
    runtime = Runtime(definition, settings)
    try:
        if replay is None:
            for letter in await list_dead_letters(runtime.sessionmaker, runtime.tables):
                print(letter.model_dump_json())
            return 0
        try:
            print(json.dumps(await replay_dead_letter(runtime.sessionmaker, runtime.tables, runtime.consumers, replay)))
            return 0
        except ReplayError as exc:
            print(f"replay refused: {exc.detail}", file=sys.stderr)
            return 1
    finally:
        await runtime.engine.dispose()
