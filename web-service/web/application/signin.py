"""Signing in and out, and turning a session cookie into the officer behind it: the access token
is checked like every service checks it (`services.identity.TokenVerifier`) and renewed from the
refresh token when it runs out."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from services.identity import InvalidToken, Principal, TokenVerifier
from web.adapters.oidc import OidcClient, SignInRefused, pkce_pair
from web.adapters.sessions import PendingSignIn, Session, SessionExpired

RENEW_BEFORE_SECONDS = 20  # an access token this close to expiry is renewed before a call uses it


@dataclass(frozen=True)
class SignedIn:
    """The officer a page is for, with the token its calls to the services carry."""

    principal: Principal
    token: str
    session: Session


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a path on this console only (never another site)."""
    if not path or not path.startswith("/") or path.startswith("//") or urlsplit(path).netloc:
        return "/"
    return path


async def begin_sign_in(oidc: OidcClient, redirect_uri: str, next_path: str | None, locale: str) -> tuple[str, PendingSignIn]:
    verifier, challenge = pkce_pair()
    pending = PendingSignIn(secrets.token_urlsafe(24), verifier, safe_next(next_path))
    return await oidc.authorization_url(redirect_uri, pending.state, challenge, locale), pending


class Officers:
    """Access tokens of the sessions this process has seen, in memory only, until they expire."""

    def __init__(self, oidc: OidcClient, verifier: TokenVerifier) -> None:
        self.oidc = oidc
        self.verifier = verifier
        self._tokens: dict[str, tuple[str, Principal, float]] = {}

    async def finish_sign_in(self, pending: PendingSignIn | None, code: str, state: str, redirect_uri: str) -> Session:
        if pending is None or not secrets.compare_digest(pending.state, state):
            raise SignInRefused("the sign-in was not started here, or took too long")
        tokens = await self.oidc.exchange(code, pending.verifier, redirect_uri)
        principal = await self.verifier.principal(tokens.access_token)
        session = Session.new(tokens.refresh_token, principal.username, principal.name)
        self._remember(session, tokens.access_token, principal, tokens.expires_in)
        return session

    async def signed_in(self, session: Session) -> tuple[SignedIn, Session]:
        """The officer, and the session to seal again (with a new refresh token when it was renewed)."""
        known = self._tokens.get(session.sid)
        if known and known[2] - RENEW_BEFORE_SECONDS > time.time():
            return SignedIn(known[1], known[0], session), session
        try:
            tokens = await self.oidc.refresh(session.refresh_token)
            principal = await self.verifier.principal(tokens.access_token)
        except (SignInRefused, InvalidToken) as exc:
            self._tokens.pop(session.sid, None)
            raise SessionExpired() from exc
        renewed = Session(session.sid, tokens.refresh_token, session.username, session.name)
        self._remember(renewed, tokens.access_token, principal, tokens.expires_in)
        return SignedIn(principal, tokens.access_token, renewed), renewed

    async def sign_out(self, session: Session) -> None:
        self._tokens.pop(session.sid, None)
        try:
            await self.oidc.sign_out(session.refresh_token)
        except Exception:  # Keycloak away: the cookie is cleared anyway, its session ends when idle
            pass

    def _remember(self, session: Session, token: str, principal: Principal, expires_in: int) -> None:
        now = time.time()
        for sid in [sid for sid, (_, _, exp) in self._tokens.items() if exp < now]:
            del self._tokens[sid]
        self._tokens[session.sid] = (token, principal, now + expires_in)
