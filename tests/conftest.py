"""The four services as real processes over the session's real Kafka and PostgreSQL."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, Page

from conftest import Identities, free_port, kafka_options
from infra.processes import SERVICES, ServiceProcess, console_env, start_console
from services.events.topics import all_topics
from tests.browser import Screenshots, chromium, new_context, sign_in

T = TypeVar("T")


class System:
    """The services as processes. `http` acts as the test officer holding every staff role (`all`);
    `as_(who)` as another officer or agency system (see the root conftest's `Identities`)."""

    def __init__(self, env: dict[str, str], logs: Path, identities: Identities) -> None:
        self.env = env
        self.logs = logs
        self.identities = identities
        self.processes: dict[str, list[ServiceProcess]] = {name: [] for name in SERVICES}
        self._local = threading.local()

    @property
    def http(self) -> httpx.Client:
        """A kept-alive client per thread (a restarted service listens on a new port, so no stale connection is reused)."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(timeout=10, auth=self.identities.auth("all"))
        return client

    def headers(self, who: str) -> dict[str, str]:
        return self.identities.headers(who)

    def start(self, name: str, replica: int | None = None) -> ServiceProcess:
        replica = len(self.processes[name]) if replica is None else replica
        process = ServiceProcess(name, free_port(), self.env, self.logs / f"{name}-{replica}.log", replica=replica).start()
        if replica < len(self.processes[name]):
            self.processes[name][replica] = process
        else:
            self.processes[name].append(process)
        process.wait_ready()
        return process

    def url(self, name: str) -> str:
        return next(p for p in self.processes[name] if p.alive()).url

    def get(self, name: str, path: str) -> Any:
        response = self.http.get(f"{self.url(name)}{path}")
        return response.json() if response.status_code == 200 else None

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(f"{self.url('intake')}/dossiers", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def stop_all(self) -> None:
        for processes in self.processes.values():
            for process in processes:
                process.stop()


async def kafka_records(env: dict[str, str]) -> list[ConsumerRecord]:
    """Every record on the session's topics so far, read by a consumer group of its own."""
    consumer = AIOKafkaConsumer(
        *all_topics(env["TOPIC_PREFIX"]),
        **kafka_options(env),
        group_id=f"read-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        idle = 0
        while idle < 3:
            batch = await consumer.getmany(timeout_ms=1000)
            idle = 0 if batch else idle + 1
            records.extend(r for part in batch.values() for r in part)
    finally:
        await consumer.stop()
    return records


def eventually(probe: Callable[[], T | None], timeout: float = 60, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last seen: {last!r}")


@contextmanager
def running(env: dict[str, str], logs: Path, identities: Identities) -> Iterator[System]:
    """The four services started with `env`, logging under `logs`, and stopped afterwards."""
    system = System(env, logs, identities)
    try:
        for name in SERVICES:
            system.start(name)
        yield system
    finally:
        system.stop_all()


@pytest.fixture(scope="module")
def system(migrated: dict[str, str], identities: Identities, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running(migrated, tmp_path_factory.mktemp("logs"), identities) as system:
        yield system


BIRTH_GROUP = {
    "procedure_code": "1.001193",
    "channel": 1,
    "documents": [{"code": "birth-certificate"}, {"code": "interlinked-form"}],
    "applicant": {"name": "Nguyễn Thị Lan", "citizen_id": "079190001234", "phone": "0912345678", "notify_channels": ["sms"]},
}


class Console:
    """The web console over the module's `system`, and Chromium to use it with."""

    def __init__(self, process: ServiceProcess, browser: Browser, identities: Identities) -> None:
        self.process = process
        self.url = process.url
        self.browser = browser
        self.identities = identities

    def page(self, *, phone: bool = False) -> Page:
        """A new browser (its own cookies) with one tab."""
        return new_context(self.browser, phone=phone).new_page()

    def sign_in(self, page: Page, who: str, next_path: str = "/") -> None:
        officer = self.identities.officers[who]
        sign_in(page, self.url, officer.username, officer.password, next_path)


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Browser]:
    with chromium() as (_, browser):
        yield browser


@pytest.fixture(scope="module")
def console(system: System, chromium_browser: Browser) -> Iterator[Console]:
    port = free_port()
    urls = {name: system.url(name) for name in SERVICES}
    process = start_console(console_env(system.env, urls, port, Fernet.generate_key().decode()), port, system.logs / "web.log")
    try:
        yield Console(process, chromium_browser, system.identities)
    finally:
        process.stop()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Screenshots:
    """`shot(page, "name")` keeps a screenshot of the page for review."""
    return Screenshots(request.node.name)
