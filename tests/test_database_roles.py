"""Each service reaches the database as its own login, which owns its schema and nothing else:
another service's tables can be neither read nor written with it, and Keycloak's login and
database are Keycloak's alone. Over the real PostgreSQL, with the logins `make run` uses."""

from __future__ import annotations

import asyncpg
import pytest

from conftest import owner_url
from infra.stack import KEYCLOAK_LOGIN, LOGIN_PER_SERVICE, SERVICE_LOGINS, login_url


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture(scope="module")
def env(migrated: dict[str, str]) -> dict[str, str]:
    if migrated.get(LOGIN_PER_SERVICE) != "1":
        pytest.skip("a PostgreSQL given by DATABASE_URL is used with the login it names")
    return migrated


async def test_a_service_login_reads_and_writes_its_own_schema_only(env: dict[str, str]) -> None:
    for own in SERVICE_LOGINS:
        conn = await asyncpg.connect(dsn(owner_url(env, own)))
        try:
            assert await conn.fetchval(f'SELECT count(*) >= 0 FROM "{own}".outbox')
            assert not await conn.fetchval(
                "SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
            )
            for other in SERVICE_LOGINS:
                if other == own:
                    continue
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.fetch(f'SELECT * FROM "{other}".outbox LIMIT 1')
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute(f'DELETE FROM "{other}".outbox')
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("CREATE SCHEMA intruder")
        finally:
            await conn.close()


async def test_keycloaks_login_cannot_reach_the_services_and_their_logins_cannot_reach_keycloak(
    env: dict[str, str],
) -> None:
    keycloak = await asyncpg.connect(dsn(login_url(env["DATABASE_URL"], KEYCLOAK_LOGIN)))
    try:
        for service in SERVICE_LOGINS:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await keycloak.fetch(f'SELECT * FROM "{service}".outbox LIMIT 1')
    finally:
        await keycloak.close()
    keycloak_db = env["DATABASE_URL"].rsplit("/", 1)[0] + "/keycloak"
    intake = await asyncpg.connect(dsn(login_url(keycloak_db, "intake")))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await intake.fetch("SELECT * FROM public.user_entity LIMIT 1")
    finally:
        await intake.close()
