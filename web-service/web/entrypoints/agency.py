"""The agency officer's pages (chuyên viên xử lý): the inbox of their agencies' steps (/xu-ly) and
one step with its actions (/xu-ly/{dossier}/{step}). Each action is a small form posted here and
passed on to routing; afterwards the step page again with a message (303), or the same form with
the API's field errors beside the fields (422)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from services.identity import Role
from web.adapters.backend import ApiError
from web.application import agency
from web.application.signin import SignedIn
from web.domain.agency import BY_KEY, OPEN_STATES, STATE_LABELS, URGENCY_LABELS, field_errors, handover_label, state_label
from web.entrypoints.pages import Api, officer_with, render

router = APIRouter()
Specialist = Annotated[SignedIn, Depends(officer_with(Role.SPECIALIST))]

NOT_FOUND = ApiError(404, "Not found")


def _ids(dossier_id: str, step_id: str) -> tuple[str, str]:
    """The dossier id as routing takes it, and the step id quoted for its path; a malformed id is
    the same 'not found' page as another agency's step."""
    try:
        return str(UUID(dossier_id)), quote(step_id, safe="")
    except ValueError:
        raise NOT_FOUND from None


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def _done(request: Request) -> str | None:
    """The message of the action named in `?ok=` (only ours: a link cannot make the page say anything else)."""
    action = BY_KEY.get(request.query_params.get("ok", ""))
    return action.done if action else None


@router.get("/xu-ly", include_in_schema=False)
async def inbox(
    request: Request,
    officer: Specialist,
    api: Api,
    state: str = "",
    procedure: str = "",
    code: str = "",
    page: str | None = None,
) -> Response:
    filters = agency.InboxFilters(
        state=state if state in STATE_LABELS else "",
        procedure_code=procedure.strip(),
        dossier_code=code.strip(),
        page=_page_number(page),
    )
    view = await agency.inbox(api, officer.token, filters)
    query = {"state": filters.state, "procedure": filters.procedure_code, "code": filters.dossier_code}
    query = {k: v for k, v in query.items() if v}
    return render(
        request,
        "agency/inbox.html",
        {
            "view": view,
            "filters": filters,
            "states": [(s, STATE_LABELS[s]) for s in (*OPEN_STATES, "done", "refused")],
            "state_label": state_label,
            "urgency_labels": URGENCY_LABELS,
            "page_query": lambda n: "?" + urlencode({**query, "page": n}),
            "flash": _done(request),
        },
    )


async def _step_page(
    request: Request,
    officer: SignedIn,
    api: Api,
    dossier_id: str,
    step_id: str,
    *,
    open_action: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    view = await agency.step_page(api, officer.token, dossier_id, step_id)
    return render(
        request,
        "agency/step.html",
        {
            "view": view,
            "s": view.step,
            "state_label": state_label,
            "handover_label": handover_label,
            "urgency_labels": URGENCY_LABELS,
            "flash": _done(request),
            "conflict": request.query_params.get("err") == "conflict",
            "open_action": open_action,
            "values": values or {},
            "errors": errors or {},
        },
        status_code,
    )


@router.get("/xu-ly/{dossier_id}/{step_id}", include_in_schema=False)
async def step(request: Request, officer: Specialist, api: Api, dossier_id: str, step_id: str) -> Response:
    d, s = _ids(dossier_id, step_id)
    return await _step_page(request, officer, api, d, s)


@router.post("/xu-ly/{dossier_id}/{step_id}/{action}", include_in_schema=False)
async def act(request: Request, officer: Specialist, api: Api, dossier_id: str, step_id: str, action: str) -> Response:
    d, s = _ids(dossier_id, step_id)
    if action not in BY_KEY:
        raise NOT_FOUND
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    here = f"/xu-ly/{d}/{s}"
    try:
        await agency.act(api, officer.token, d, s, action, form)
    except ApiError as exc:
        if exc.status == 422:
            shown = field_errors(exc.errors) or {"": exc.detail or exc.title}
            return await _step_page(request, officer, api, d, s, open_action=action, values=form, errors=shown, status_code=422)
        if exc.status == 409:
            return RedirectResponse(f"{here}?err=conflict", status_code=303)
        raise
    if action == "transfer":  # the step is another agency's now: it leaves this officer's inbox
        return RedirectResponse(f"/xu-ly?ok={action}", status_code=303)
    return RedirectResponse(f"{here}?ok={action}", status_code=303)
