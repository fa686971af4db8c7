"""The four services as real processes trusting a realm of this module's own: bad tokens are 401
problem+json and change nothing, a route with no token is refused whatever it is, and Keycloak
rotating its signing key needs no restart of any service.

Deny by default is checked from the services' own route tables: every route that is not on the
short public list (health, metrics, docs, the catalogue, the citizen's look-up) answers 401 without
a token, so a route added later without a role check fails here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from conftest import H30, Identities, free_port
from infra.identity import ImportedKey, Officer, OwnRealm, own_realm
from infra.processes import SERVICES, ServiceProcess
from tests.conftest import BIRTH_GROUP

PUBLIC = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/catalogue",
    "/catalogue/procedures/{code}",
    "/lookup",
    "/lookup/rating",
}


@pytest.fixture(scope="module")
def realm(identities: Identities) -> Iterator[OwnRealm]:
    officer = Officer("t-root", "Vũ Toàn Quyền", ("province-admin", "operator"), password=uuid.uuid4().hex)
    with own_realm(identities.admin, officer) as made:
        yield made


@pytest.fixture(scope="module")
def services(
    migrated: dict[str, str], realm: OwnRealm, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, ServiceProcess]]:
    env = {**migrated, "OIDC_ISSUER": realm.issuer}
    logs: Path = tmp_path_factory.mktemp("token-logs")
    started = {name: ServiceProcess(name, free_port(), env, logs / f"{name}.log").start() for name in SERVICES}
    try:
        for process in started.values():
            process.wait_ready()
        yield started
    finally:
        for process in started.values():
            process.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# One read that every service answers to the province administrator and operator.
READS = {
    "intake": "/dossiers?limit=1",
    "routing": "/admin/deliveries",
    "deadline": "/reports/on-time?from=2026-01-01&to=2026-12-31",
    "notify": "/admin/notices",
}


def trail_after(services: dict[str, ServiceProcess], name: str, token: str, after: int = 0) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        page = httpx.get(f"{services[name].url}/audit-trail", params={"after_id": after, "limit": 1000}, headers=bearer(token))
        assert page.status_code == 200, page.text
        batch = page.json()
        rows += batch
        if len(batch) < 1000:
            return rows
        after = batch[-1]["id"]


def total(services: dict[str, ServiceProcess], token: str) -> int:
    counts = httpx.get(f"{services['intake'].url}/dossiers", params={"limit": 1}, headers=bearer(token)).json()["counts"]
    return int(counts["total"])


def hs256(claims: dict[str, Any], key: ImportedKey) -> str:
    """The classic confusion attack: HMAC-signed with the issuer's public key as the secret."""
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode()).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    body = header + b"." + payload
    mac = hmac.new(key.public_pem.encode(), body, hashlib.sha256).digest()
    return (body + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()


def forged(realm: OwnRealm) -> dict[str, str]:
    now = int(time.time())
    good = {"iss": realm.issuer, "aud": "motcua-api", "sub": str(uuid.uuid4()), "iat": now, "exp": now + 300}
    good["roles"] = ["province-admin", "operator", "counter-officer"]
    good["units"] = [H30]

    def b64(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return {
        "expired": realm.key.sign({**good, "iat": now - 900, "exp": now - 600}),
        "wrong issuer": realm.key.sign({**good, "iss": "https://sso.example.vn/realms/motcua"}),
        "wrong audience": realm.key.sign({**good, "aud": "account"}),
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(good)}.",
        "HS256 with the public key": hs256(good, realm.key),
        "unknown key": realm.key.sign(good, kid="rotated-away"),
    }


def test_bad_tokens_are_401_problem_json_on_every_service_and_change_nothing(
    services: dict[str, ServiceProcess], realm: OwnRealm, identities: Identities
) -> None:
    token = realm.token()
    ok = httpx.post(f"{services['intake'].url}/dossiers", json=BIRTH_GROUP, headers=bearer(token), timeout=30)
    assert ok.status_code == 201, ok.text
    last = {name: max([0, *(r["id"] for r in trail_after(services, name, token))]) for name in SERVICES}
    count_before = total(services, token)

    bad = {**forged(realm), "another realm's token": identities.token("all"), "none": ""}
    for reason, value in bad.items():
        headers = bearer(value) if value else {}
        posted = httpx.post(f"{services['intake'].url}/dossiers", json=BIRTH_GROUP, headers=headers, timeout=30)
        assert posted.status_code == 401, (reason, posted.text)
        assert posted.headers["content-type"] == "application/problem+json", reason
        for name, path in READS.items():
            answer = httpx.get(f"{services[name].url}{path}", headers=headers)
            assert answer.status_code == 401, (reason, name, answer.text)
        tick = httpx.post(f"{services['deadline'].url}/admin/tick", json={}, headers=headers)
        assert tick.status_code == 401, reason

    assert total(services, token) == count_before, "no dossier was received on a bad token"
    for name in SERVICES:
        # Since then only the real officer's own reads, and what the services did with the first
        # dossier, are in the audit trails: nothing by a refused caller.
        for row in trail_after(services, name, token, last[name]):
            assert row["actor_name"] == realm.officer.name or row["actor_kind"] == "service", (name, row)


def test_every_route_but_the_public_ones_refuses_a_call_without_a_token(services: dict[str, ServiceProcess]) -> None:
    checked = 0
    for name, process in services.items():
        document = httpx.get(f"{process.url}/openapi.json").json()
        for route, operations in document["paths"].items():
            if route in PUBLIC:
                continue
            path = route.replace("{dossier_id}", str(uuid.uuid4())).replace("{step_id}", "civil-status")
            for parameter in ("{notice_id}", "{delivery_id}", "{dead_letter_id}", "{code}"):
                path = path.replace(parameter, "1")
            for method in operations:
                answer = httpx.request(method.upper(), f"{process.url}{path}")
                assert answer.status_code == 401, f"{name} {method.upper()} {route} answered {answer.status_code} without a token"
                checked += 1
    assert checked > 40


def test_a_signing_key_rotation_needs_no_restart_of_any_service(services: dict[str, ServiceProcess], realm: OwnRealm) -> None:
    before = realm.token()
    for name, path in READS.items():
        assert httpx.get(f"{services[name].url}{path}", headers=bearer(before)).status_code == 200, name
    pids = {name: p.process.pid for name, p in services.items() if p.process}

    new_kid = realm.admin.rotate_signing_key()
    after = realm.token()
    assert jwt.get_unverified_header(after)["kid"] == new_kid
    for name, path in READS.items():
        answer = httpx.get(f"{services[name].url}{path}", headers=bearer(after))
        assert answer.status_code == 200, (name, answer.text)
    assert {name: p.process.pid for name, p in services.items() if p.process} == pids, "no service was restarted"
    assert all(p.alive() for p in services.values())
