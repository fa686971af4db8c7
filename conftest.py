"""Fixtures shared by every test folder: the real infrastructure, started once per session.

PostgreSQL, Kafka and Keycloak of the `test` profile are started if they are not already running
(and stopped at the end if this session started them, unless MOTCUA_KEEP_STACK=1). Each session
gets a fresh database and its own topic prefix, so runs never see each other's data, and signs its
test officers in to Keycloak with passwords of its own."""

from __future__ import annotations

import os
import secrets
import socket
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from infra.identity import KeycloakAdmin, Officer, SignIns
from infra.stack import LOGIN_PER_SERVICE, PROFILES, SERVICE_LOGINS, Stack, login_url

H30 = "000.00.00.H30"  # the province's public-service centre
PHU_LOC = "000.01.30.H30"  # the commune of Phú Lộc's

# The test officers, by the name tests use for them. `all` holds the province administrator's and
# the operator's roles: the tests of a mechanism other than access act as it.
OFFICERS = {
    "all": Officer("t-all", "Vũ Kiểm Thử", ("province-admin", "operator")),
    "admin": Officer("t-admin", "Trần Quản Trị", ("province-admin",)),
    "operator": Officer("t-operator", "Lê Vận Hành", ("operator",)),
    "counter": Officer("t-counter", "Nguyễn Thị Tiếp", ("counter-officer",), units=(H30,)),
    "counter_b": Officer("t-counter-b", "Phạm Văn Xã", ("counter-officer",), units=(PHU_LOC,)),
    "leader": Officer("t-leader", "Hoàng Văn Lãnh", ("unit-leader",), units=(H30,)),
    "leader_b": Officer("t-leader-b", "Đinh Thị Đạo", ("unit-leader",), units=(PHU_LOC,)),
    "specialist": Officer("t-specialist", "Lê Thị Mai", ("specialist",), agencies=("UBND-XA",)),
    "specialist_b": Officer("t-specialist-b", "Đỗ Văn Bảo", ("specialist",), agencies=("BHXH",)),
    "specialist_ca": Officer("t-specialist-ca", "Phan Minh Công", ("specialist",), agencies=("CA-XA",)),
    "nobody": Officer("t-nobody", "Ngô Không Quyền", ()),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    stack = Stack(PROFILES["test"]).up()
    yield stack
    if os.environ.get("MOTCUA_KEEP_STACK") != "1":
        stack.down(only_started=True)


class Identities(SignIns):
    """The session's test officers, with a password of the session's own, and the agency systems."""

    def __init__(self, admin: KeycloakAdmin) -> None:
        password = secrets.token_urlsafe(18)
        super().__init__(admin, {key: replace(o, password=password) for key, o in OFFICERS.items()})


@pytest.fixture(scope="session")
def identities(stack: Stack) -> Identities:
    return Identities(KeycloakAdmin.of(stack.profile))


@pytest.fixture(scope="session")
def session_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def database_url(stack: Stack, session_id: str) -> Iterator[str]:
    if stack.postgres.external:
        yield stack.profile.database_url
        return
    with own_database(stack, f"motcua_t_{session_id}") as url:
        yield url


@contextmanager
def own_database(stack: Stack, name: str) -> Iterator[str]:
    """A database of its own (each service's schema owned by that service's login), dropped afterwards."""
    stack.postgres.create_database(name)
    try:
        yield f"postgresql+asyncpg://motcua@127.0.0.1:{stack.profile.pg_port}/{name}"
    finally:
        try:
            stack.postgres.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception:
            pass


@pytest.fixture(scope="session")
def service_env(stack: Stack, database_url: str, session_id: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for running a service against this session's database and topics (each service
    process connecting as its own database and Kafka login, as `make run` does; this process, and
    what runs in it, as the operator's). The session's topics and ACLs are provisioned here."""
    prefix = f"t{session_id}"
    stack.kafka.provision(prefix)
    return {
        **{k: v for k, v in stack.profile.env().items() if k == LOGIN_PER_SERVICE},
        "DATABASE_URL": database_url,
        **stack.profile.kafka_env(),
        **stack.profile.personal_data_env(),
        "OIDC_ISSUER": stack.profile.issuer,
        "TOPIC_PREFIX": prefix,
        "NOTIFY_SINK_PATH": str(tmp_path_factory.mktemp("sink") / "notices.jsonl"),
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture(scope="session")
def apply_env(service_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The same environment in this process, for in-process runtimes and settings."""
    saved = {k: os.environ.get(k) for k in service_env}
    os.environ.update(service_env)
    yield service_env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def migrated(apply_env: dict[str, str]) -> dict[str, str]:
    """Every service's migrations applied to this session's database."""
    from services.migrations import upgrade

    root = Path(__file__).resolve().parent
    for name in SERVICE_LOGINS:
        upgrade(root / f"{name}-service" / "migrations", owner_url(apply_env, name))
    return apply_env


def owner_url(env: dict[str, str], service: str) -> str:
    """The database as the service's own login (the owner its migrations run as), where there is one."""
    return login_url(env["DATABASE_URL"], service) if env.get(LOGIN_PER_SERVICE) == "1" else env["DATABASE_URL"]


def kafka_options(env: Mapping[str, str]) -> dict[str, Any]:
    """A Kafka client's connection options from a service environment (TLS, and that environment's login)."""
    from services.kafka import connection_options
    from services.settings import KafkaAccess

    return connection_options(KafkaAccess(**{k: v for k, v in env.items() if k.startswith("KAFKA_")}))
