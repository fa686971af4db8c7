"""Signing officers in through Keycloak: authorization code with PKCE (the console is a public
client), refresh, and sign-out at Keycloak so that its single sign-on session ends too."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


class SignInRefused(Exception):
    """Keycloak would not give tokens (code used or expired, session ended, user disabled)."""


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class OidcClient:
    def __init__(self, issuer: str, client_id: str, http: httpx.AsyncClient) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._http = http
        self._metadata: dict[str, Any] | None = None

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            response = await self._http.get(f"{self.issuer}/.well-known/openid-configuration")
            response.raise_for_status()
            self._metadata = response.json()
        return self._metadata

    async def authorization_url(self, redirect_uri: str, state: str, challenge: str, locale: str) -> str:
        endpoint = (await self.metadata())["authorization_endpoint"]
        query = {
            "client_id": self.client_id,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "ui_locales": locale,
        }
        return f"{endpoint}?{urlencode(query)}"

    async def exchange(self, code: str, verifier: str, redirect_uri: str) -> Tokens:
        return await self._tokens(
            {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "redirect_uri": redirect_uri}
        )

    async def refresh(self, refresh_token: str) -> Tokens:
        return await self._tokens({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def sign_out(self, refresh_token: str) -> None:
        endpoint = (await self.metadata())["end_session_endpoint"]
        await self._http.post(endpoint, data={"client_id": self.client_id, "refresh_token": refresh_token})

    async def _tokens(self, form: dict[str, str]) -> Tokens:
        endpoint = (await self.metadata())["token_endpoint"]
        response = await self._http.post(endpoint, data={**form, "client_id": self.client_id})
        if response.status_code in (400, 401):
            raise SignInRefused(response.json().get("error_description") or response.text)
        response.raise_for_status()
        body = response.json()
        return Tokens(body["access_token"], body["refresh_token"], int(body.get("expires_in", 60)))
