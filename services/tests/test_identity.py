"""The kernel's token check, against the real Keycloak of the test stack: what a valid token turns
into, every kind of bad token an audit tries (401 problem+json), roles (403), and a key rotation
taken up without a restart.

The tokens a test needs that Keycloak would never issue (expired, for another audience, from
another issuer) are signed with a key of the test's own that a throwaway realm publishes, so each
fails for the one reason it is about and not for an unknown signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from conftest import H30, Identities
from infra.identity import ImportedKey, Officer, OwnRealm, client_token, officer_token, own_realm
from services.events.envelope import Actor, current_actor
from services.identity import Caller, Principal, Role, TokenVerifier, allow
from services.problems import install_problem_handlers
from services.request_context import RequestContext

AUDIENCE = "motcua-api"


@pytest.fixture(scope="module")
def other_realm(identities: Identities) -> Iterator[OwnRealm]:
    """A realm of this module's own, publishing a key of ours; with one counter officer."""
    officer = Officer("t-other", "Quách Thị Khác", ("counter-officer",), units=(H30,), password=uuid.uuid4().hex)
    with own_realm(identities.admin, officer) as realm:
        yield realm


def app_for(issuer: str) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    verifier = TokenVerifier(issuer, AUDIENCE, refresh_interval=0.5)
    app.state.runtime = type("Runtime", (), {"verifier": verifier})()

    @app.get("/me")
    async def me(principal: Caller) -> dict[str, Any]:
        actor = current_actor.get()
        return {
            "subject": principal.subject,
            "name": principal.name,
            "roles": sorted(r for r in principal.roles if r in set(Role)),
            "units": list(principal.units),
            "agencies": list(principal.agencies),
            "actor": actor.model_dump() if actor else None,
        }

    @app.post("/counter", dependencies=[Depends(allow(Role.COUNTER))])
    async def counter() -> dict[str, str]:
        return {"ok": "yes"}

    app.add_middleware(RequestContext)
    return app


@pytest.fixture
async def main_realm(identities: Identities) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_for(identities.issuer)), base_url="http://svc") as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_an_officers_token_becomes_a_principal_with_roles_units_and_the_actor(
    main_realm: httpx.AsyncClient, identities: Identities
) -> None:
    answer = await main_realm.get("/me", headers=identities.headers("counter"))
    assert answer.status_code == 200, answer.text
    me = answer.json()
    assert me["name"] == "Nguyễn Thị Tiếp" and me["roles"] == ["counter-officer"] and me["units"] == [H30]
    assert me["actor"] == {"kind": "officer", "subject": me["subject"], "name": "Nguyễn Thị Tiếp", "unit": H30}
    assert current_actor.get() is None, "the actor belongs to its request only"


async def test_an_agency_systems_token_carries_its_agency(main_realm: httpx.AsyncClient, identities: Identities) -> None:
    me = (await main_realm.get("/me", headers=identities.headers("bhxh"))).json()
    assert me["roles"] == ["agency-system"] and me["agencies"] == ["BHXH"] and me["units"] == []
    assert me["actor"]["kind"] == "agency-system" and me["actor"]["unit"] == "BHXH"
    assert me["actor"]["name"] == "Bảo hiểm xã hội", "the system's display name, from its client in the realm"
    lgsp = (await main_realm.get("/me", headers=identities.headers("lgsp-tinh"))).json()
    assert lgsp["roles"] == ["lgsp"] and lgsp["actor"]["kind"] == "lgsp"


async def test_a_role_not_allowed_is_403_and_no_token_is_401(main_realm: httpx.AsyncClient, identities: Identities) -> None:
    assert (await main_realm.post("/counter", headers=identities.headers("counter"))).status_code == 200
    for who in ("leader", "specialist", "operator", "nobody", "bhxh"):
        refused = await main_realm.post("/counter", headers=identities.headers(who))
        assert refused.status_code == 403, who
        assert refused.headers["content-type"] == "application/problem+json"
        assert "counter-officer" in refused.json()["detail"]
    missing = await main_realm.post("/counter")
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.headers["content-type"] == "application/problem+json"


def claims(issuer: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": issuer, "aud": AUDIENCE, "sub": str(uuid.uuid4()), "iat": now, "exp": now + 300, "roles": ["counter-officer"]}
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def unsigned(payload: dict[str, Any], header: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


async def test_every_kind_of_bad_token_is_401_problem_json(other_realm: OwnRealm, identities: Identities) -> None:
    admin, key, officer = other_realm.admin, other_realm.key, other_realm.officer
    issuer = admin.issuer()
    app = app_for(issuer)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as c:
        good = key.sign(claims(issuer))
        assert (await c.post("/counter", headers=bearer(good))).status_code == 200, "the test key is one the issuer vouches for"
        real = officer_token(issuer, officer.username, officer.password)["access_token"]
        assert (await c.post("/counter", headers=bearer(real))).status_code == 200

        hs256_header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
        body = unsigned(claims(issuer), hs256_header)[:-1]
        mac = hmac.new(key.public_pem.encode(), body.encode(), hashlib.sha256).digest()
        hs256_with_public_key = body + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
        bad = {
            "expired": key.sign(claims(issuer, iat=int(time.time()) - 900, exp=int(time.time()) - 600)),
            "wrong issuer": key.sign(claims("https://sso.example.vn/realms/motcua")),
            "wrong audience": key.sign(claims(issuer, aud="account")),
            "no audience": key.sign(claims(issuer, aud=None)),
            "no expiry": key.sign(claims(issuer, exp=None)),
            "no subject": key.sign(claims(issuer, sub=None)),
            "alg none": unsigned(claims(issuer), {"alg": "none", "typ": "JWT", "kid": key.kid}),
            "HS256 signed with the public key": hs256_with_public_key,
            "unknown key id": key.sign(claims(issuer), kid="not-a-key-of-the-issuer"),
            "tampered claims": good.split(".")[0]
            + "."
            + unsigned(claims(issuer, roles=["province-admin"]), {}).split(".")[1]
            + "."
            + good.split(".")[2],
            "another realm's token": identities.token("counter"),
            "not a JWT": "opaque-session-cookie-value",
        }
        for reason, token in bad.items():
            answer = await c.post("/counter", headers=bearer(token))
            assert answer.status_code == 401, reason
            assert answer.headers["content-type"] == "application/problem+json", reason
            assert answer.headers["www-authenticate"].startswith("Bearer"), reason
            assert answer.json()["type"].endswith("unauthorized"), reason


async def test_a_key_rotation_is_taken_up_without_a_restart(other_realm: OwnRealm) -> None:
    admin, officer = other_realm.admin, other_realm.officer
    app = app_for(admin.issuer())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as c:
        before = officer_token(admin.issuer(), officer.username, officer.password)["access_token"]
        assert (await c.get("/me", headers=bearer(before))).status_code == 200
        new_kid = admin.rotate_signing_key()
        after = officer_token(admin.issuer(), officer.username, officer.password)["access_token"]
        import jwt

        assert jwt.get_unverified_header(after)["kid"] == new_kid, "Keycloak signs with the new key"
        time.sleep(0.6)  # the verifier asks the issuer again at most every refresh_interval
        answer = await c.get("/me", headers=bearer(after))
        assert answer.status_code == 200, answer.text
        assert (await c.get("/me", headers=bearer(before))).status_code == 200, "the old key is still published"


async def test_a_checked_token_is_taken_from_memory_only_until_it_expires_or_its_key_is_withdrawn(
    other_realm: OwnRealm,
) -> None:
    from services.identity import InvalidToken

    admin = other_realm.admin
    issuer = admin.issuer()
    verifier = TokenVerifier(issuer, AUDIENCE, leeway_seconds=0, refresh_interval=0)
    try:
        key = ImportedKey()
        key.install(admin)
        short = key.sign(claims(issuer, exp=int(time.time()) + 2))
        lasting = key.sign(claims(issuer))
        assert (await verifier.principal(short)).roles == {"counter-officer"}
        assert await verifier.principal(short) is await verifier.principal(short), "the second time from memory"
        time.sleep(3)
        with pytest.raises(InvalidToken, match="expired"):
            await verifier.principal(short)

        assert await verifier.principal(lasting)
        key.remove(admin)
        with pytest.raises(InvalidToken):  # a token naming a key not seen yet makes the verifier fetch the keys again
            await verifier.principal(key.sign(claims(issuer), kid="a-key-not-seen-yet"))
        with pytest.raises(InvalidToken, match="does not publish"):
            await verifier.principal(lasting)
    finally:
        await verifier.close()


def test_a_principal_from_claims_reads_what_keycloak_puts_in_the_token() -> None:
    principal = Principal.from_claims(
        {
            "sub": "s-1",
            "preferred_username": "service-account-ca-xa",
            "azp": "ca-xa",
            "roles": ["agency-system", "offline_access"],
            "agencies": ["CA-XA"],
        }
    )
    assert principal.name == "ca-xa" and principal.agencies == ("CA-XA",) and principal.units == ()
    assert principal.actor == Actor(kind="agency-system", subject="s-1", name="ca-xa", unit="CA-XA")
    assert not principal.scope.everything and principal.scope.covers_agency("CA-XA") and not principal.scope.covers_agency("BHXH")
    admin = Principal.from_claims({"sub": "s-2", "name": "Trần Quản Trị", "roles": ["province-admin"]})
    assert admin.scope.everything and admin.scope.covers_unit("any") and admin.actor.kind == "officer"


async def test_client_credentials_of_an_agency_system_are_refused_with_a_wrong_secret(identities: Identities) -> None:
    with pytest.raises(RuntimeError, match="refused client bhxh"):
        client_token(identities.issuer, "bhxh", "not-the-secret")


def test_a_service_will_not_start_without_an_issuer(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    from infra.processes import PYTHONPATH

    env = {k: v for k, v in os.environ.items() if k != "OIDC_ISSUER"} | {"PYTHONPATH": PYTHONPATH}
    for service in ("intake", "routing", "deadline", "notify"):
        started = subprocess.run([sys.executable, "-m", service, "serve"], env=env, capture_output=True, text=True, timeout=60)
        assert started.returncode == 2, (service, started.stderr[-500:])
        assert "cannot start" in started.stderr and "OIDC_ISSUER" in started.stderr, service
