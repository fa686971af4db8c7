"""HTTP clients for the LGSP and the national portal (httpx): OAuth2 client-credentials tokens
cached until shortly before they expire, timeouts, a request id that the answer must echo."""

from __future__ import annotations

import time
from typing import Any

import httpx


class ExchangeError(Exception):
    """The other side did not (verifiably) take the message; worth retrying later."""


class TokenSource:
    """Bearer tokens from an OAuth2 token endpoint (client credentials), reused until near expiry."""

    def __init__(self, client: httpx.AsyncClient, token_url: str, client_id: str, client_secret: str) -> None:
        self.client = client
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self._token: str | None = None
        self._expires = 0.0

    async def get(self) -> str:
        if self._token and time.monotonic() < self._expires - 10:
            return self._token
        try:
            response = await self.client.post(
                self.token_url, data={"grant_type": "client_credentials"}, auth=(self.client_id, self.client_secret)
            )
        except httpx.HTTPError as exc:
            raise ExchangeError(f"token endpoint unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise ExchangeError(f"token endpoint answered {response.status_code}")
        body = response.json()
        self._token = str(body["access_token"])
        self._expires = time.monotonic() + float(body.get("expires_in", 300))
        return self._token

    def forget(self) -> None:
        self._token = None


async def post_bound(
    client: httpx.AsyncClient, url: str, body: dict[str, Any], request_id: str, headers: dict[str, str]
) -> dict[str, Any]:
    """POST and insist that the answer names our request id (LGSP result status 1 = ok)."""
    try:
        response = await client.post(url, json=body, headers={**headers, "X-Request-ID": request_id})
    except httpx.HTTPError as exc:
        raise ExchangeError(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code >= 300:
        raise ExchangeError(f"HTTP {response.status_code}: {response.text[:200]}")
    try:
        answer = response.json()
    except ValueError:
        raise ExchangeError("answer is not JSON") from None
    if not isinstance(answer, dict) or answer.get("request_id") != request_id:
        raise ExchangeError("answer is not bound to this request (request_id differs)")
    if answer.get("status", 1) != 1:
        raise ExchangeError(f"refused by the other side: {answer.get('error_code')} {answer.get('message', '')}".strip())
    return answer
