"""The four services' REST APIs, called with the signed-in officer's token (or none, for the
citizen's public look-up). A problem+json answer becomes an `ApiError` the pages show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from web.settings import WebSettings

ServiceName = Literal["intake", "routing", "deadline", "notify"]


@dataclass
class ApiError(Exception):
    status: int
    title: str
    detail: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"

    @property
    def by_field(self) -> dict[str, str]:
        """Each invalid field's message, keyed by the API's field path (`applicant.phone`), for the form."""
        return {e.get("field", ""): e.get("message", "") for e in self.errors}

    @staticmethod
    def from_response(response: httpx.Response) -> ApiError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        return ApiError(
            response.status_code,
            str(body.get("title") or response.reason_phrase),
            str(body.get("detail") or ""),
            [e for e in body.get("errors", []) if isinstance(e, dict)],
        )


class ServiceUnavailable(Exception):
    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.service = service


class Backend:
    def __init__(self, settings: WebSettings) -> None:
        self.urls: dict[str, str] = {
            "intake": settings.intake_url,
            "routing": settings.routing_url,
            "deadline": settings.deadline_url,
            "notify": settings.notify_url,
        }
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=3.0))

    async def close(self) -> None:
        await self._http.aclose()

    async def response(
        self,
        service: ServiceName,
        method: str,
        path: str,
        token: str | None,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """The raw answer (for CSV and HTML the services render); 4xx and 5xx raise `ApiError`."""
        headers = {**(headers or {}), **({"Authorization": f"Bearer {token}"} if token else {})}
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            response = await self._http.request(method, f"{self.urls[service]}{path}", headers=headers, json=json, params=query)
        except httpx.TransportError as exc:
            raise ServiceUnavailable(service) from exc
        if response.status_code >= 400:
            if response.status_code in (502, 503, 504):
                raise ServiceUnavailable(service)
            raise ApiError.from_response(response)
        return response

    async def get(self, service: ServiceName, path: str, token: str | None, **params: Any) -> Any:
        return (await self.response(service, "GET", path, token, params=params)).json()

    async def post(
        self, service: ServiceName, path: str, token: str | None, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        """`headers`: e.g. the citizen's address as X-Forwarded-For (so intake limits each citizen, not the
        console), or an Idempotency-Key (so a double click files one dossier)."""
        response = await self.response(service, "POST", path, token, json=body if body is not None else {}, headers=headers)
        return response.json() if response.content else None

    async def ready(self) -> dict[str, str]:
        checks = {}
        for name, url in self.urls.items():
            try:
                answer = await self._http.get(f"{url}/healthz", timeout=2)
                checks[name] = "ok" if answer.status_code == 200 else f"error: {answer.status_code}"
            except httpx.HTTPError as exc:
                checks[name] = f"error: {type(exc).__name__}"
        return checks
