"""OAuth2 client-credentials tokens for the agencies' API: short-lived HS256 JWTs (RFC 7519)."""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from functools import lru_cache

import jwt

log = logging.getLogger(__name__)

ISSUER = "motcua-routing"
AUDIENCE = "motcua-agency-api"


@lru_cache(maxsize=1)
def _ephemeral_key() -> str:
    log.warning("ROUTING_JWT_SECRET is not set: tokens are signed with a per-process key and die with it")
    return secrets.token_urlsafe(32)


def signing_key(configured: str | None) -> str:
    return configured or _ephemeral_key()


def issue(key: str, agency_code: str, client_id: str, ttl_seconds: int, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": agency_code,
        "client_id": client_id,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm="HS256")


def agency_of(key: str, token: str) -> str | None:
    """The agency code a valid, unexpired token was issued to, or None."""
    try:
        claims = jwt.decode(
            token, key, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER, options={"require": ["exp", "iat", "sub"]}
        )
    except jwt.PyJWTError:
        return None
    return str(claims["sub"])


class AgencyTokens:
    """The tokens of this service: issued and checked with one key, valid `ttl_seconds`."""

    def __init__(self, key: str, ttl_seconds: int) -> None:
        self.key = key
        self.ttl_seconds = ttl_seconds

    def issue(self, agency_code: str, client_id: str) -> str:
        return issue(self.key, agency_code, client_id, self.ttl_seconds)

    def agency_of(self, token: str) -> str | None:
        return agency_of(self.key, token)
