"""The counter officer's use cases over the services' APIs, one function per command or page: find
a procedure, receive a dossier, the queue, a dossier's page (its parts read in parallel), the
actions on it, and the data of the printable forms 1, 2, 3 and 5. Each takes the `Backend` and the
officer's token; no FastAPI here."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from web.adapters.backend import ApiError, Backend, ServiceUnavailable
from web.domain.counter import (
    ACTION_PATHS,
    Action,
    QueueFilters,
    ReceptionForm,
    action_body,
    apology_form,
    control_sheet,
    dossier_create,
    match_procedures,
    refusal_form,
    supplement_form,
)

T = TypeVar("T")

ACTION_ENDPOINTS: dict[Action, str] = {
    Action.REQUEST_SUPPLEMENT: "supplement-requests",
    Action.RECEIVE_SUPPLEMENT: "supplements",
    Action.REFUSE: "refusal",
    Action.WITHDRAW: "withdrawal",
    Action.RETURN_RESULT: "result-return",
}
assert set(ACTION_ENDPOINTS) == set(ACTION_PATHS)


async def catalogue(backend: Backend) -> dict[str, Any]:
    """Intake's catalogue: its receiving units and active procedures (public)."""
    return await backend.get("intake", "/catalogue", None)


async def find_procedures(backend: Backend, query: str) -> list[dict[str, Any]]:
    return [dict(p) for p in match_procedures((await catalogue(backend))["procedures"], query)]


async def procedure(backend: Backend, code: str) -> dict[str, Any] | None:
    """One procedure with its document checklist; None when the catalogue has no such code."""
    try:
        return await backend.get("intake", f"/catalogue/procedures/{code}", None)
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


async def receive_dossier(
    backend: Backend, token: str, form: ReceptionForm, procedure: dict[str, Any], key: str
) -> dict[str, Any]:
    """Tiếp nhận hồ sơ: the dossier as intake created it. `key` is the form's idempotency key, so a
    form sent twice (a double click, a reload) receives one dossier. `ApiError` 422 names each field."""
    body = dossier_create(form, procedure)
    return await backend.post("intake", "/dossiers", token, body, headers={"Idempotency-Key": key})


def new_form_key() -> str:
    return uuid.uuid4().hex


async def queue(backend: Backend, token: str, filters: QueueFilters, cursor: str | None, limit: int = 50) -> dict[str, Any]:
    """A page of the units' dossiers with the filters, the counts, and the next page's cursor."""
    params, _ = filters.api_params()
    return await backend.get("intake", "/dossiers", token, **params, limit=limit, cursor=cursor)


async def _optional(call: Awaitable[T], away: list[str], name: str) -> T | None:
    """A part of the page the officer may not see (403, 404) is left out; a service away is named."""
    try:
        return await call
    except ApiError as exc:
        if exc.status in (401, 403, 404):
            return None
        raise
    except ServiceUnavailable:
        away.append(name)
        return None


@dataclass
class DossierView:
    dossier: dict[str, Any]
    receipt: dict[str, Any] | None
    route: dict[str, Any] | None
    deadlines: list[dict[str, Any]] | None
    clock: dict[str, Any] | None
    notices: list[dict[str, Any]] | None
    unavailable: list[str] = field(default_factory=list)


async def dossier_view(backend: Backend, token: str, dossier_id: str) -> DossierView:
    """The dossier from intake (another unit's is 404: the 'not found' page), and beside it, fetched
    together, its receipt, route and control sheet, due times, clock and notices."""
    away: list[str] = []
    path = f"/dossiers/{dossier_id}"
    dossier, receipt, route, deadlines, clock, notices = await asyncio.gather(
        backend.get("intake", path, token),
        _optional(backend.get("intake", f"{path}/receipt", token), away, "intake"),
        _optional(backend.get("routing", f"{path}/route", token), away, "routing"),
        _optional(backend.get("deadline", f"{path}/deadlines", token), away, "deadline"),
        _optional(backend.get("deadline", f"{path}/clock", token), away, "deadline"),
        _optional(backend.get("notify", f"{path}/notices", token), away, "notify"),
    )
    return DossierView(dossier, receipt, route, deadlines, clock, notices, sorted(set(away)))


async def act(backend: Backend, token: str, dossier_id: str, action: Action, form: dict[str, str]) -> Any:
    """One of the counter's actions on the dossier; `ApiError` 422 (fields) or 409 (status) as intake answers."""
    return await backend.post("intake", f"/dossiers/{dossier_id}/{ACTION_ENDPOINTS[action]}", token, action_body(action, form))


async def receipt(backend: Backend, token: str, dossier_id: str) -> dict[str, Any]:
    """Form 1's data from intake: the receipt with its look-up secret."""
    return await backend.get("intake", f"/dossiers/{dossier_id}/receipt", token)


async def supplement_request_form(backend: Backend, token: str, dossier_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Form 2 from the latest supplement request (None when none was made), with the receipt's header data."""
    dossier, slip = await asyncio.gather(
        backend.get("intake", f"/dossiers/{dossier_id}", token), receipt(backend, token, dossier_id)
    )
    return slip, supplement_form(dossier, slip["applicant_name"])


async def refusal_request_form(backend: Backend, token: str, dossier_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Form 3 of a refused dossier (None when it was not refused), with the receipt's header data."""
    dossier, slip = await asyncio.gather(
        backend.get("intake", f"/dossiers/{dossier_id}", token), receipt(backend, token, dossier_id)
    )
    return slip, refusal_form(dossier, slip["applicant_name"])


async def apology_letter_form(backend: Backend, token: str, dossier_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Form 4 from the deadline service's latest apology (None when the dossier was never late),
    with the dossier and the receipt's header data from intake."""
    away: list[str] = []
    dossier, slip, clock = await asyncio.gather(
        backend.get("intake", f"/dossiers/{dossier_id}", token),
        receipt(backend, token, dossier_id),
        _optional(backend.get("deadline", f"/dossiers/{dossier_id}/clock", token), away, "deadline"),
    )
    return slip, apology_form(clock, dossier, slip["applicant_name"])


async def control_sheet_form(backend: Backend, token: str, dossier_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Form 5 from routing's route and control sheet, with deadline's step outcomes when readable;
    None when the dossier has no route yet."""
    away: list[str] = []
    slip, route, deadlines = await asyncio.gather(
        receipt(backend, token, dossier_id),
        _optional(backend.get("routing", f"/dossiers/{dossier_id}/route", token), away, "routing"),
        _optional(backend.get("deadline", f"/dossiers/{dossier_id}/deadlines", token), away, "deadline"),
    )
    if route is None:
        return slip, None
    return slip, control_sheet(route, deadlines or [])
