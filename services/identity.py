"""Who is calling: access tokens from the configured OpenID Connect issuer (Keycloak), checked
against the issuer's published keys, turned into a typed `Principal` for every service.

Deny by default: every route that is not public takes `Caller` (or `allow(...)`), and a service
cannot start without an issuer. The checks are the ones an audit asks for: the signing key comes
from the issuer's JWKS (cached; fetched again when a token names a key id not seen yet, so a key
rotation needs no restart), the algorithm is pinned to RS256 (an `alg: none` or HS256 token is
refused before any key is looked at), and issuer, audience, expiry, issue time and subject are
required."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.events.envelope import Actor, current_actor
from services.problems import Problem

log = logging.getLogger(__name__)

ALGORITHM = "RS256"


class Role(StrEnum):
    COUNTER = "counter-officer"  # tiếp nhận và trả kết quả
    SPECIALIST = "specialist"  # chuyên viên xử lý
    LEADER = "unit-leader"  # lãnh đạo đơn vị
    PROVINCE_ADMIN = "province-admin"  # quản trị cấp tỉnh
    OPERATOR = "operator"  # vận hành hệ thống
    AGENCY_SYSTEM = "agency-system"  # an agency's own software, by client credentials
    LGSP = "lgsp"
    PORTAL = "portal"  # the provincial public-service portal


OFFICERS = frozenset({Role.COUNTER, Role.SPECIALIST, Role.LEADER, Role.PROVINCE_ADMIN})


@dataclass(frozen=True)
class Scope:
    """What a caller may see: everything, or the dossiers of some units and the steps of some agencies.
    Repositories filter by it in their queries, so an out-of-scope dossier is simply not found."""

    everything: bool = False
    units: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()

    def covers_unit(self, unit: str | None) -> bool:
        return self.everything or (unit is not None and unit in self.units)

    def covers_agency(self, agency: str | None) -> bool:
        return self.everything or (agency is not None and agency in self.agencies)

    def covers_any(self, *, units: tuple[str | None, ...] = (), agencies: tuple[str | None, ...] = ()) -> bool:
        return self.everything or any(u in self.units for u in units) or any(a in self.agencies for a in agencies)


EVERYTHING = Scope(everything=True)


@dataclass(frozen=True)
class Principal:
    subject: str
    name: str
    username: str
    client_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    units: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()

    def has(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def scope(self) -> Scope:
        if self.has(Role.PROVINCE_ADMIN):
            return EVERYTHING
        return Scope(units=self.units, agencies=self.agencies)

    @property
    def actor(self) -> Actor:
        if self.has(*OFFICERS):
            kind = "officer"
        elif self.has(Role.LGSP):
            kind = "lgsp"
        elif self.has(Role.PORTAL):
            kind = "portal"
        elif self.has(Role.AGENCY_SYSTEM):
            kind = "agency-system"
        else:
            kind = "officer" if self.has(Role.OPERATOR) else "agency-system"
        unit = self.units[0] if self.units else (self.agencies[0] if self.agencies else None)
        return Actor(kind=kind, subject=self.subject, name=self.name, unit=unit)

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        def strings(name: str) -> tuple[str, ...]:
            value = claims.get(name) or ()
            return tuple(str(v) for v in ([value] if isinstance(value, str) else value))

        roles = set(strings("roles")) | set((claims.get("realm_access") or {}).get("roles") or ())
        username = str(claims.get("preferred_username") or claims["sub"])
        client_id = str(claims.get("azp") or claims.get("client_id") or "")
        name = str(claims.get("name") or "").strip() or (client_id if username.startswith("service-account-") else username)
        return cls(
            subject=str(claims["sub"]),
            name=name,
            username=username,
            client_id=client_id,
            roles=frozenset(roles),
            units=strings("units"),
            agencies=strings("agencies"),
        )


class InvalidToken(Exception):
    """The token is not one this service accepts; the message says why (for the log and the 401)."""


class TokenVerifier:
    """Checks access tokens of one issuer for one audience. Keys are fetched from the issuer's
    JWKS (found through its discovery document) and kept; a token naming an unknown key id makes
    it fetch them again, at most once every `refresh_interval` seconds."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        jwks_url: str | None = None,
        leeway_seconds: int = 10,
        refresh_interval: float = 2.0,
        max_checked: int = 4096,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.jwks_url = jwks_url
        self.leeway = leeway_seconds
        self.refresh_interval = refresh_interval
        self._client = client
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()
        # Tokens already checked, until they expire: a client sends the same token for minutes, and
        # checking an RS256 signature costs about 160 µs of CPU a request here.
        self._checked: OrderedDict[str, tuple[Principal, float, str]] = OrderedDict()
        self.max_checked = max_checked

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=5)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _refresh(self) -> None:
        http = self._http()
        if self.jwks_url is None:
            discovery = await http.get(f"{self.issuer}/.well-known/openid-configuration")
            discovery.raise_for_status()
            self.jwks_url = str(discovery.json()["jwks_uri"])
        answer = await http.get(self.jwks_url)
        answer.raise_for_status()
        keys: dict[str, jwt.PyJWK] = {}
        for entry in answer.json().get("keys", []):
            if entry.get("use", "sig") != "sig" or entry.get("alg", ALGORITHM) != ALGORITHM or "kid" not in entry:
                continue
            try:
                keys[entry["kid"]] = jwt.PyJWK(entry, ALGORITHM)
            except jwt.PyJWTError:
                log.warning("ignoring a key of the issuer's JWKS that cannot be read: %s", entry.get("kid"))
        self._keys = keys
        self._fetched_at = time.monotonic()
        # A key the issuer no longer publishes vouches for nothing, not even tokens checked before.
        for token in [t for t, (_, _, kid) in self._checked.items() if kid not in keys]:
            del self._checked[token]
        log.info("signing keys of %s: %s", self.issuer, ", ".join(sorted(keys)) or "none")

    async def _key(self, kid: str) -> jwt.PyJWK:
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at >= self.refresh_interval:
                try:
                    await self._refresh()
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    log.warning("cannot fetch the signing keys of %s: %s", self.issuer, exc)
                    raise InvalidToken("the issuer's signing keys cannot be fetched now") from exc
        if kid not in self._keys:
            raise InvalidToken("the token is signed with a key the issuer does not publish")
        return self._keys[kid]

    async def principal(self, token: str) -> Principal:
        checked = self._checked.get(token)
        if checked is not None:
            principal, expires, _ = checked
            if time.time() < expires + self.leeway:
                self._checked.move_to_end(token)
                return principal
            del self._checked[token]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("the bearer token is not a JWT") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"tokens must be signed with {ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token names no signing key")
        key = await self._key(kid)
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("the token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken(f"the token is not meant for {self.audience}") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidToken("the token comes from another issuer") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"the token is not valid: {exc}") from exc
        principal = Principal.from_claims(claims)
        self._checked[token] = (principal, float(claims["exp"]), kid)
        if len(self._checked) > self.max_checked:
            self._checked.popitem(last=False)
        return principal


_bearer = HTTPBearer(auto_error=False)


def unauthenticated(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, type="unauthorized", headers={"WWW-Authenticate": 'Bearer realm="motcua"'})


async def authenticated(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The caller, from `Authorization: Bearer <access token>`; 401 problem+json otherwise. What the
    request then changes is recorded as done by this caller (`current_actor`)."""
    if credentials is None:
        raise unauthenticated("an access token from the identity provider is required (Authorization: Bearer ...)")
    verifier: TokenVerifier = request.app.state.runtime.verifier
    try:
        principal = await verifier.principal(credentials.credentials)
    except InvalidToken as exc:
        raise unauthenticated(str(exc)) from exc
    request.state.principal = principal
    current_actor.set(principal.actor)
    return principal


Caller = Annotated[Principal, Depends(authenticated)]


def allow(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting callers holding any of `roles` (403 for the others)."""

    async def dependency(principal: Caller) -> Principal:
        if not principal.has(*roles):
            raise Problem(
                403,
                "Forbidden",
                f"this needs one of the roles: {', '.join(roles)}",
                type="forbidden",
            )
        return principal

    dependency.__name__ = "allow_" + "_".join(r.replace("-", "_") for r in roles)
    return dependency


def role_caller(*roles: str) -> Any:
    """`Annotated[Principal, Depends(allow(*roles))]`, for a route's parameter."""
    return Annotated[Principal, Depends(allow(*roles))]


# The operator's endpoints (dead letters, deliveries, notices, the tick): `dependencies=OperatorOnly`.
OperatorOnly = [Depends(allow(Role.OPERATOR))]
