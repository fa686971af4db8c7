"""The operator's pages for a citizen's personal data (dữ liệu cá nhân): ask for an export or an
erasure by citizen id, follow each service's answer, read and download what was held."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from services.identity import Role
from web.adapters.backend import ApiError
from web.application import personal_data as use
from web.application.signin import SignedIn
from web.domain.personal_data import (
    CITIZEN_ID_INVALID,
    DATA_CLASSES,
    KINDS,
    SENT,
    SERVICES,
    RequestForm,
    export_document,
    request_view,
)
from web.entrypoints.pages import Api, officer_with, render

router = APIRouter()

Operator = Annotated[SignedIn, Depends(officer_with(Role.OPERATOR))]
REQUEST_ID = re.compile(r"^pdr-[0-9a-f]{1,60}$")


def _request_id(value: str) -> str:
    if not REQUEST_ID.match(value):
        raise ApiError(404, "Not Found")
    return value


async def _index(
    request: Request, officer: SignedIn, api: Api, form: RequestForm, errors: dict[str, str], status_code: int = 200
) -> Response:
    recent = await use.recent_requests(api, officer.token)
    # The citizen id is not shown again, even after an error: the officer types it anew.
    return render(
        request,
        "personal_data/index.html",
        {"form": form, "errors": errors, "recent": recent, "kinds": KINDS},
        status_code,
    )


@router.get("/du-lieu-ca-nhan", include_in_schema=False)
async def index(request: Request, officer: Operator, api: Api) -> Response:
    return await _index(request, officer, api, RequestForm(), {})


@router.post("/du-lieu-ca-nhan", include_in_schema=False)
async def ask(request: Request, officer: Operator, api: Api) -> Response:
    posted = await request.form()
    form = RequestForm.from_form({k: v for k, v in posted.items() if isinstance(v, str)})
    errors = form.errors()
    if errors:
        return await _index(request, officer, api, form, errors, 422)
    try:
        created = await use.ask(api, officer.token, form)
    except ApiError as exc:
        if exc.status != 422:
            raise
        return await _index(request, officer, api, form, {"citizen_id": CITIZEN_ID_INVALID}, 422)
    return RedirectResponse(f"/du-lieu-ca-nhan/{created['id']}?ok=1", status_code=303)


@router.get("/du-lieu-ca-nhan/{request_id}", include_in_schema=False)
async def one(request: Request, officer: Operator, api: Api, request_id: str, ok: str | None = None) -> Response:
    asked, parts = await use.request_with_parts(api, officer.token, _request_id(request_id))
    view = request_view(asked, parts)
    page = render(
        request,
        "personal_data/request.html",
        {"view": view, "kinds": KINDS, "services": SERVICES, "data_classes": DATA_CLASSES, "flash": SENT if ok else None},
    )
    page.headers["Cache-Control"] = "no-store"  # what a citizen's export shows stays out of caches
    return page


@router.get("/du-lieu-ca-nhan/{request_id}/du-lieu.json", include_in_schema=False)
async def download(officer: Operator, api: Api, request_id: str) -> Response:
    """The export as a file to hand to the citizen."""
    asked, parts = await use.request_with_parts(api, officer.token, _request_id(request_id))
    if asked["kind"] != "export":
        raise ApiError(404, "Not Found")
    document: dict[str, Any] = export_document(asked, parts)
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        media_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{asked["id"]}.json"', "Cache-Control": "no-store"},
    )
