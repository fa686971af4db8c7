"""The agency officer's use cases (chuyên viên xử lý), over routing's agency API with the
officer's token (routing scopes every call to the token's agencies: another agency's step is 404),
deadline's due times, and intake's public catalogue (the procedure's required documents, and the
agencies a misrouted step can be transferred to). One function per page or command."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.calendar import WorkingCalendar, working_calendar
from web.adapters.backend import ApiError, Backend, ServiceUnavailable
from web.domain.agency import BY_KEY, StepAction, actions_for, body_for, urgency

PAGE_SIZE = 20
CATALOGUE_SECONDS = 300  # the catalogue changes by publication, not by the minute


@dataclass(frozen=True)
class InboxFilters:
    state: str = ""
    procedure_code: str = ""
    dossier_code: str = ""
    page: int = 1


@dataclass
class InboxPage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    procedures: list[dict[str, str]]


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _mark(rows: list[dict[str, Any]], calendar: WorkingCalendar, now: datetime) -> list[dict[str, Any]]:
    for row in rows:
        due = _moment(row.get("due_at"))
        left = calendar.working_hours_between(now, due) if due else None
        row["urgency"] = urgency(row["state"], due, now, left)
    return rows


async def inbox(
    backend: Backend, token: str, filters: InboxFilters, *, calendar: WorkingCalendar | None = None, now: datetime | None = None
) -> InboxPage:
    """The steps of the officer's agencies, soonest due first, with the late and nearly late marked."""
    answer = await backend.get(
        "routing",
        "/agency/steps",
        token,
        state=filters.state,
        procedure_code=filters.procedure_code,
        dossier_code=filters.dossier_code.strip(),
        page=max(1, filters.page),
        page_size=PAGE_SIZE,
    )
    rows = _mark(answer["items"], calendar or working_calendar(), now or datetime.now(UTC))
    pages = max(1, -(-answer["total"] // PAGE_SIZE))
    return InboxPage(rows, answer["total"], answer["page"], pages, await procedures(backend))


@dataclass
class StepView:
    step: dict[str, Any]
    route: dict[str, Any] | None
    previous: list[dict[str, Any]]
    deadlines: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    actions: list[StepAction]
    agencies: list[dict[str, str]]
    urgency: str = ""
    agency_name: str = ""


async def step_page(
    backend: Backend, token: str, dossier_id: str, step_id: str, *, calendar: WorkingCalendar | None = None
) -> StepView:
    """One step of the officer's agencies with what a specialist may read around it: the route and
    its control sheet (routing), the due times (deadline), the procedure's required documents (the
    public catalogue; the documents handed in are intake's, for the counter's eyes)."""
    step = await backend.get("routing", f"/agency/steps/{dossier_id}/{step_id}", token)
    route = await _optional(backend.get("routing", f"/dossiers/{dossier_id}/route", token))
    deadlines = await _optional(backend.get("deadline", f"/dossiers/{dossier_id}/deadlines", token)) or []
    this = next((s for s in (route or {}).get("steps", []) if s["step_id"] == step_id), None)
    after = (this or {}).get("after", [])
    previous = [s for s in (route or {}).get("steps", []) if s["step_id"] in after]
    now = datetime.now(UTC)
    due = _moment(step.get("due_at"))
    left = (calendar or working_calendar()).working_hours_between(now, due) if due else None
    procedure = await _procedure(backend, step["procedure_code"])
    agencies = [a for a in await agencies_list(backend) if a["code"] != step["agency_code"]]
    return StepView(
        step=step,
        route=route,
        previous=previous,
        deadlines=deadlines,
        documents=(procedure or {}).get("documents", []),
        actions=actions_for(step["state"], has_previous=bool(after)),
        agencies=agencies,
        urgency=urgency(step["state"], due, now, left),
        agency_name=(this or {}).get("agency_name") or step["agency_code"],
    )


async def act(backend: Backend, token: str, dossier_id: str, step_id: str, key: str, form: dict[str, str]) -> dict[str, Any]:
    """One action on the step, as the officer typed it; `ApiError` 422 names the fields, 409 when
    the step's state no longer allows it."""
    action = BY_KEY[key]
    return await backend.post("routing", f"/agency/steps/{dossier_id}/{step_id}/{action.key}", token, body_for(action, form))


async def _optional(call: Any) -> Any:
    """What a call answers, or None when it is not there (yet) for this officer, or its service is
    away (the page shows the rest)."""
    try:
        return await call
    except ServiceUnavailable:
        return None
    except ApiError as exc:
        if exc.status in (403, 404):
            return None
        raise


# ---------------------------------------------------------------- the public catalogue, kept a while

_catalogue: dict[str, tuple[float, Any]] = {}


async def _cached(key: str, load: Any) -> Any:
    hit = _catalogue.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    value = await load()
    _catalogue[key] = (time.monotonic() + CATALOGUE_SECONDS, value)
    return value


async def procedures(backend: Backend) -> list[dict[str, str]]:
    """The catalogue's active procedures (code, name), for the inbox's filter."""

    async def load() -> list[dict[str, str]]:
        answer = await backend.get("intake", "/catalogue", None)
        return [{"code": p["code"], "name": p["name"]} for p in answer["procedures"]]

    return await _optional_list(_cached("procedures", load))


async def _procedure(backend: Backend, code: str) -> dict[str, Any] | None:
    async def load() -> dict[str, Any] | None:
        return await _optional(backend.get("intake", f"/catalogue/procedures/{code}", None))

    return await _cached(f"procedure:{code}", load)


async def agencies_list(backend: Backend) -> list[dict[str, str]]:
    """The agencies the catalogue's procedures route to (code and name), for a transfer. No service
    lists agencies as such; every agency a procedure names is here, with its competent agency's name
    when it is one, else the name its first step gives it."""

    async def load() -> list[dict[str, str]]:
        names: dict[str, str] = {}
        step_names: dict[str, str] = {}
        for summary in await procedures(backend):
            procedure = await _procedure(backend, summary["code"])
            if not procedure:
                continue
            competent = procedure["competent_agency"]
            names.setdefault(competent["code"], competent["name"])
            for step in procedure["steps"]:
                step_names.setdefault(step["agency_code"], step["agency_name"])
        merged = {**step_names, **names}
        return [{"code": code, "name": name} for code, name in sorted(merged.items())]

    return await _optional_list(_cached("agencies", load))


async def _optional_list(call: Any) -> list[dict[str, str]]:
    try:
        return await call
    except (ApiError, ServiceUnavailable):
        return []
