"""The operator's personal-data requests, through intake (which finds the citizen's dossiers and asks
the other services) and each service's own record of what it held. Every read of a part is
written in that service's audit trail under the operator's name."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from web.adapters.backend import Backend, ServiceName, ServiceUnavailable
from web.domain.personal_data import RequestForm

HOLDERS: tuple[ServiceName, ...] = ("routing", "deadline", "notify")
PATH = "/personal-data/requests"


async def recent_requests(backend: Backend, token: str) -> list[dict[str, Any]]:
    return await backend.get("intake", PATH, token, limit=50)


async def ask(backend: Backend, token: str, form: RequestForm) -> dict[str, Any]:
    """Send the request; intake answers at once with its own part and the dossiers it asked about."""
    return await backend.post("intake", PATH, token, {"citizen_id": form.citizen_id, "kind": form.kind})


async def _part(backend: Backend, token: str, service: ServiceName, request_id: str) -> Sequence[dict[str, Any]] | None:
    try:
        return await backend.get(service, f"{PATH}/{request_id}/held", token)
    except ServiceUnavailable:
        return None


async def request_with_parts(
    backend: Backend, token: str, request_id: str
) -> tuple[dict[str, Any], dict[str, Sequence[dict[str, Any]] | None]]:
    """The request (404 as `ApiError`) and each other service's parts of it; `None` for one away."""
    request, *parts = await asyncio.gather(
        backend.get("intake", f"{PATH}/{request_id}", token),
        *(_part(backend, token, service, request_id) for service in HOLDERS),
    )
    return request, dict(zip(HOLDERS, parts, strict=True))
