"""The officer's session, sealed in a cookie (Fernet: encrypted and signed), so that the console
keeps no state of its own and any replica, or a restarted one, serves the next request. The cookie
holds Keycloak's refresh token; access tokens are kept in memory only, until they expire.

The cookie is sealed again on every request, and a seal older than the idle limit is refused:
that is the idle timeout."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass

from cryptography.fernet import Fernet, InvalidToken

COOKIE = "motcua_session"
SIGN_IN_COOKIE = "motcua_sign_in"  # state, PKCE verifier and where to go after, for one sign-in
SIGN_IN_SECONDS = 600


@dataclass(frozen=True)
class Session:
    sid: str
    refresh_token: str
    username: str
    name: str

    @staticmethod
    def new(refresh_token: str, username: str, name: str) -> Session:
        return Session(secrets.token_urlsafe(16), refresh_token, username, name)


@dataclass(frozen=True)
class PendingSignIn:
    state: str
    verifier: str
    next: str


class SessionExpired(Exception):
    """The cookie is there but its seal is too old (idle) or its refresh token is no longer honoured."""


class CookieSeal:
    def __init__(self, key: str, idle_seconds: int) -> None:
        self._fernet = Fernet(key.encode())
        self._idle = idle_seconds

    def seal_session(self, session: Session) -> str:
        return self._seal(asdict(session))

    def open_session(self, value: str) -> Session:
        """The session, or SessionExpired when it is older than the idle limit (or forged)."""
        data = self._open(value, self._idle)
        if data is None:
            raise SessionExpired()
        return Session(**data)

    def seal_sign_in(self, pending: PendingSignIn) -> str:
        return self._seal(asdict(pending))

    def open_sign_in(self, value: str) -> PendingSignIn | None:
        data = self._open(value, SIGN_IN_SECONDS)
        return None if data is None else PendingSignIn(**data)

    def _seal(self, data: dict[str, str]) -> str:
        return self._fernet.encrypt_at_time(json.dumps(data).encode(), int(time.time())).decode()

    def _open(self, value: str, ttl: int) -> dict[str, str] | None:
        try:
            return json.loads(self._fernet.decrypt(value.encode(), ttl=ttl))
        except (InvalidToken, ValueError, TypeError):
            return None
