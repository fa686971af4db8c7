"""Talking to Keycloak from outside the services: the administrator's REST API (users, client
secrets, realms, signing keys) and tokens for officers and agency systems. Used by `make run`'s
demo, the tests and the benchmarks; the services themselves only verify tokens
(`services.identity`)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from infra.stack import KEYCLOAK_DIR, REALM, Profile

CLI_CLIENT = "motcua-cli"  # public client with the password grant, for officers on the command line


@dataclass(frozen=True)
class Officer:
    username: str
    name: str
    roles: tuple[str, ...]
    units: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    password: str = field(default="", repr=False)

    @property
    def groups(self) -> list[str]:
        return [f"/units/{u}" for u in self.units] + [f"/agencies/{a}" for a in self.agencies]


def realm_file() -> dict[str, Any]:
    return dict(json.loads((KEYCLOAK_DIR / f"realm-{REALM}.json").read_text()))


class KeycloakAdmin:
    """The master realm's administrator, over Keycloak's admin REST API."""

    def __init__(self, base_url: str, password: str, *, username: str = "admin", realm: str = REALM) -> None:
        self.base = base_url.rstrip("/")
        self.realm = realm
        self.username = username
        self.password = password
        self.http = httpx.Client(timeout=30)
        self._token: tuple[str, float] | None = None

    @classmethod
    def of(cls, profile: Profile, realm: str = REALM) -> KeycloakAdmin:
        from infra.stack import Keycloak, Postgres

        return cls(profile.keycloak_url, Keycloak(profile, Postgres(profile)).admin_password, realm=realm)

    def issuer(self, realm: str | None = None) -> str:
        return f"{self.base}/realms/{realm or self.realm}"

    def _bearer(self) -> str:
        if self._token is None or self._token[1] < time.monotonic():
            answer = self.http.post(
                f"{self.base}/realms/master/protocol/openid-connect/token",
                data={"grant_type": "password", "client_id": "admin-cli", "username": self.username, "password": self.password},
            )
            answer.raise_for_status()
            body = answer.json()
            self._token = (body["access_token"], time.monotonic() + body["expires_in"] - 10)
        return self._token[0]

    def call(self, method: str, path: str, *, realm: str | None = None, **kwargs: Any) -> httpx.Response:
        """`path` under /admin/realms/<realm>; with realm="" under /admin/realms itself."""
        url = f"{self.base}/admin/realms" + (path if realm == "" else f"/{realm or self.realm}{path}")
        answer = self.http.request(method, url, headers={"Authorization": f"Bearer {self._bearer()}"}, **kwargs)
        if answer.status_code >= 400:
            raise RuntimeError(f"Keycloak admin {method} {url}: {answer.status_code} {answer.text[:300]}")
        return answer

    # ------------------------------------------------------------ clients

    def client_uuid(self, client_id: str) -> str:
        found = self.call("GET", "/clients", params={"clientId": client_id}).json()
        if not found:
            raise LookupError(f"no client {client_id!r} in realm {self.realm}")
        return str(found[0]["id"])

    def client_secret(self, client_id: str) -> str:
        return str(self.call("GET", f"/clients/{self.client_uuid(client_id)}/client-secret").json()["value"])

    # ------------------------------------------------------------ users

    def _role(self, name: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/roles/{name}").json())

    def _group_id(self, path: str) -> str:
        return str(self.call("GET", f"/group-by-path{path}").json()["id"])

    def ensure_officer(self, officer: Officer) -> str:
        """Create the officer, or bring an existing one to exactly these roles, groups and password."""
        found = self.call("GET", "/users", params={"username": officer.username, "exact": "true"}).json()
        rep = {"username": officer.username, "firstName": officer.name, "enabled": True, "emailVerified": True}
        if found:
            user_id = str(found[0]["id"])
            self.call("PUT", f"/users/{user_id}", json=rep)
        else:
            location = self.call("POST", "/users", json=rep).headers["Location"]
            user_id = location.rsplit("/", 1)[1]
        self.call(
            "PUT",
            f"/users/{user_id}/reset-password",
            json={"type": "password", "value": officer.password, "temporary": False},
        )
        held = {r["name"]: r for r in self.call("GET", f"/users/{user_id}/role-mappings/realm").json()}
        wanted = set(officer.roles)
        ours = {r["name"] for r in realm_file()["roles"]["realm"]}
        extra = [held[n] for n in held if n in ours and n not in wanted]
        if extra:
            self.call("DELETE", f"/users/{user_id}/role-mappings/realm", json=extra)
        missing = [self._role(n) for n in wanted if n not in held]
        if missing:
            self.call("POST", f"/users/{user_id}/role-mappings/realm", json=missing)
        member_of = {g["path"]: g["id"] for g in self.call("GET", f"/users/{user_id}/groups").json()}
        for path, group_id in member_of.items():
            if path not in officer.groups:
                self.call("DELETE", f"/users/{user_id}/groups/{group_id}")
        for path in officer.groups:
            if path not in member_of:
                self.call("PUT", f"/users/{user_id}/groups/{self._group_id(path)}")
        return user_id

    def ensure_officers(self, officers: Iterable[Officer]) -> None:
        for officer in officers:
            self.ensure_officer(officer)

    # ------------------------------------------------------------ realms and keys

    def create_realm(self, name: str) -> str:
        """A copy of the project's realm under another name (with keys of its own): returns its issuer."""
        self.call("POST", "", realm="", json={**realm_file(), "realm": name})
        return self.issuer(name)

    def delete_realm(self, name: str) -> None:
        self.call("DELETE", "", realm=name)

    def signing_kids(self, realm: str | None = None) -> list[str]:
        keys = self.call("GET", "/keys", realm=realm).json()["keys"]
        return [k["kid"] for k in keys if k.get("algorithm") == "RS256" and k.get("use") == "SIG" and k.get("status") == "ACTIVE"]

    def add_key_provider(self, provider: str, config: dict[str, list[str]], realm: str | None = None) -> str:
        """A signing-key provider of the realm (`rsa-generated`, or `rsa` with a key given); its component id."""
        realm_id = self.call("GET", "", realm=realm).json()["id"]
        created = self.call(
            "POST",
            "/components",
            realm=realm,
            json={
                "name": f"{provider}-{time.time_ns()}",
                "providerId": provider,
                "providerType": "org.keycloak.keys.KeyProvider",
                "parentId": realm_id,
                "config": {"algorithm": ["RS256"], **config},
            },
        )
        return str(created.headers["Location"].rsplit("/", 1)[1])

    def rotate_signing_key(self, realm: str | None = None) -> str:
        """Add a new RS256 key above every other (new tokens are signed with it); returns its key id."""
        before = set(self.signing_kids(realm))
        self.add_key_provider("rsa-generated", {"priority": [str(int(time.time()))], "keySize": ["2048"]}, realm)
        (new,) = set(self.signing_kids(realm)) - before
        return str(new)


# ---------------------------------------------------------------- tokens


def officer_token(issuer: str, username: str, password: str, client_id: str = CLI_CLIENT) -> dict[str, Any]:
    answer = httpx.post(
        f"{issuer}/protocol/openid-connect/token",
        data={"grant_type": "password", "client_id": client_id, "username": username, "password": password},
        timeout=30,
    )
    if answer.status_code != 200:
        raise RuntimeError(f"Keycloak refused {username}'s sign-in: {answer.status_code} {answer.text[:200]}")
    return dict(answer.json())


def client_token(issuer: str, client_id: str, secret: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{issuer}/protocol/openid-connect/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret), timeout=30
    )
    if answer.status_code != 200:
        raise RuntimeError(f"Keycloak refused client {client_id}: {answer.status_code} {answer.text[:200]}")
    return dict(answer.json())


class TokenAuth(httpx.Auth):
    """httpx authentication with a token fetched on first use and again shortly before it expires
    (for sync and async clients alike; the fetch itself is a short blocking call)."""

    def __init__(self, fetch: Callable[[], dict[str, Any]]) -> None:
        self.fetch = fetch
        self._lock = threading.Lock()
        self._token: tuple[str, float] | None = None

    @property
    def token(self) -> str:
        with self._lock:
            if self._token is None or self._token[1] < time.monotonic():
                body = self.fetch()
                self._token = (body["access_token"], time.monotonic() + body["expires_in"] - 30)
            return self._token[0]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


class SignIns:
    """Officers (the password grant of `motcua-cli`) and service-account clients (client
    credentials) as Keycloak signs them in, each with a token kept fresh. The officers are created
    (or brought to exactly what `officers` says) first."""

    def __init__(self, admin: KeycloakAdmin, officers: dict[str, Officer]) -> None:
        self.admin = admin
        self.issuer = admin.issuer()
        self.officers = officers
        admin.ensure_officers(officers.values())
        self._secrets: dict[str, str] = {}
        self._auth: dict[str, TokenAuth] = {}

    def secret(self, client_id: str) -> str:
        if client_id not in self._secrets:
            self._secrets[client_id] = self.admin.client_secret(client_id)
        return self._secrets[client_id]

    def auth(self, who: str) -> TokenAuth:
        """An officer's (a key of `officers`) or a service-account client's (its client id)."""
        if who not in self._auth:
            if who in self.officers:
                self._auth[who] = officer_auth(self.issuer, self.officers[who])
            else:
                self._auth[who] = client_auth(self.issuer, who, self.secret(who))
        return self._auth[who]

    def headers(self, who: str) -> dict[str, str]:
        return self.auth(who).headers

    def token(self, who: str) -> str:
        return self.auth(who).token


def officer_auth(issuer: str, officer: Officer) -> TokenAuth:
    return TokenAuth(lambda: officer_token(issuer, officer.username, officer.password))


def client_auth(issuer: str, client_id: str, secret: str) -> TokenAuth:
    return TokenAuth(lambda: client_token(issuer, client_id, secret))


class ImportedKey:
    """An RSA key of our own imported into a realm (below the realm's own key, so Keycloak keeps
    signing with its key): the realm then publishes it, and the tests can sign tokens the issuer
    vouches for with any claims — expired, for another audience, from another issuer."""

    def __init__(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "motcua-tests")])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(self.private, hashes.SHA256())
        )
        self.private_pem = self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        self.public_pem = (
            self.private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        self.certificate_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        self.kid = ""
        self.component_id = ""

    def install(self, admin: KeycloakAdmin, realm: str | None = None) -> str:
        self.component_id = admin.add_key_provider(
            "rsa",
            {
                "privateKey": [self.private_pem],
                "certificate": [self.certificate_pem],
                "priority": ["1"],
                "active": ["true"],
                "enabled": ["true"],
            },
            realm,
        )
        modulus = self.private.public_key().public_numbers().n
        for entry in httpx.get(f"{admin.issuer(realm)}/protocol/openid-connect/certs", timeout=10).json()["keys"]:
            if entry.get("kty") == "RSA" and int.from_bytes(_b64(entry["n"]), "big") == modulus:
                self.kid = str(entry["kid"])
                return self.kid
        raise RuntimeError("the imported key is not in the realm's published keys")

    def remove(self, admin: KeycloakAdmin, realm: str | None = None) -> None:
        """The realm stops publishing the key (as after a compromise)."""
        admin.call("DELETE", f"/components/{self.component_id}", realm=realm)

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        import jwt

        return jwt.encode(claims, self.private_pem, algorithm="RS256", headers={"kid": self.kid, **header})


def _b64(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class OwnRealm:
    """A realm of a test's own: the project's realm file under another name, publishing a key of
    the test's (`key`), with one officer."""

    admin: KeycloakAdmin
    key: ImportedKey
    officer: Officer

    @property
    def issuer(self) -> str:
        return self.admin.issuer()

    def token(self) -> str:
        return str(officer_token(self.issuer, self.officer.username, self.officer.password)["access_token"])


@contextmanager
def own_realm(admin: KeycloakAdmin, officer: Officer) -> Iterator[OwnRealm]:
    """Make an `OwnRealm` beside `admin`'s, and delete it at the end."""
    name = f"motcua-{uuid.uuid4().hex[:8]}"
    theirs = KeycloakAdmin(admin.base, admin.password, realm=name)
    theirs.create_realm(name)
    try:
        key = ImportedKey()
        key.install(theirs)
        theirs.ensure_officer(officer)
        yield OwnRealm(theirs, key, officer)
    finally:
        theirs.delete_realm(name)
