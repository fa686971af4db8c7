"""HTTP clients (httpx) for the other side of an exchange: agencies' own systems behind the LGSP,
with OAuth2 client-credentials tokens from the LGSP cached until shortly before they expire, and
the national portal's sync services. Timeouts, and a request id that the answer must echo."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from routing.application.ports import ExchangeError
from routing.settings import RoutingSettings


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
    client: httpx.AsyncClient, url: str, body: Mapping[str, Any], request_id: str, headers: dict[str, str]
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


class LgspSystems:
    """Agencies' own systems through the LGSP (`AgencySystems`), with the LGSP's bearer token when one is configured."""

    def __init__(self, client: httpx.AsyncClient, tokens: TokenSource | None) -> None:
        self.client = client
        self.tokens = tokens

    async def deliver(self, endpoint: str, payload: Mapping[str, Any], request_id: str) -> dict[str, Any]:
        try:
            headers = {"Authorization": f"Bearer {await self.tokens.get()}"} if self.tokens else {}
            return await post_bound(self.client, endpoint, payload, request_id, headers)
        except ExchangeError as exc:
            if self.tokens and "HTTP 401" in str(exc):  # the LGSP forgot our token: ask for a new one next time
                self.tokens.forget()
            raise


class PortalClient:
    """The national portal (`NationalPortal`): DongBoHoSoMC to create or update, TraCuuHoSo to look up."""

    def __init__(self, client: httpx.AsyncClient, url: str, token: str | None) -> None:
        self.client = client
        self.url = url
        self.push_url = f"{url}/DongBoHoSoMC"
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def push(self, key: str, record: Mapping[str, Any]) -> None:
        await post_bound(
            self.client, self.push_url, {"request_id": key, "HoSo": record}, key, {**self.headers, "Idempotency-Key": key}
        )

    async def status_of(self, dossier_code: str) -> int | None:
        try:
            response = await self.client.get(f"{self.url}/TraCuuHoSo", params={"MaHoSo": dossier_code}, headers=self.headers)
        except httpx.HTTPError as exc:
            raise ExchangeError(f"portal look-up failed: {type(exc).__name__}") from exc
        if response.status_code not in (200, 404):
            raise ExchangeError(f"portal look-up answered {response.status_code}")
        return response.json().get("TrangThaiHoSo") if response.status_code == 200 else None


@asynccontextmanager
async def lgsp_systems(settings: RoutingSettings) -> AsyncIterator[LgspSystems]:
    async with httpx.AsyncClient(timeout=settings.exchange_timeout_seconds) as client:
        tokens = (
            TokenSource(client, settings.lgsp_token_url, settings.lgsp_client_id or "", settings.lgsp_client_secret or "")
            if settings.lgsp_token_url
            else None
        )
        yield LgspSystems(client, tokens)


@asynccontextmanager
async def national_portal(settings: RoutingSettings) -> AsyncIterator[PortalClient]:
    """The portal's client; only when NATIONAL_PORTAL_URL is set."""
    assert settings.portal_url
    async with httpx.AsyncClient(timeout=settings.exchange_timeout_seconds) as client:
        yield PortalClient(client, settings.portal_url, settings.portal_token)
