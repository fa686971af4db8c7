"""The counter officer's pages: receiving a dossier (/tiep-nhan), the units' queue (/ho-so), a
dossier's page with the actions its status allows, and the printable forms 1, 2, 3 and 5 as HTML
and PDF from the same templates. Routes parse, call one use case, and render."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from services.identity import Role
from web.adapters.backend import ApiError, Backend
from web.adapters.pdf import html_to_pdf, qr_svg
from web.application import counter as use
from web.application.signin import SignedIn
from web.domain.counter import (
    ACTION_LABELS,
    ACTION_PATHS,
    CONFLICT,
    FLASHES,
    HANDOVER_ACTIONS,
    NOTICE_STATES,
    NOTICE_TRIGGERS,
    OUTCOME_LABELS,
    RECEIVED,
    RETURN_METHODS,
    STEP_STATES,
    Action,
    QueueFilters,
    ReceptionForm,
    actions_for,
    field_messages,
    legal_date,
    lookup_link,
    receiving_units,
)
from web.entrypoints.pages import Api, officer_with, render, wiring

router = APIRouter()

Receiver = Annotated[SignedIn, Depends(officer_with(Role.COUNTER))]
Reader = Annotated[SignedIn, Depends(officer_with(Role.COUNTER, Role.LEADER, Role.PROVINCE_ADMIN))]
Actor = Annotated[SignedIn, Depends(officer_with(Role.COUNTER, Role.PROVINCE_ADMIN))]

LABELS = {
    "outcomes": OUTCOME_LABELS,
    "step_states": STEP_STATES,
    "handover_actions": HANDOVER_ACTIONS,
    "notice_triggers": NOTICE_TRIGGERS,
    "notice_states": NOTICE_STATES,
    "return_methods": RETURN_METHODS,
    "action_labels": ACTION_LABELS,
    "action_paths": ACTION_PATHS,
}


def _dossier_id(value: str) -> str:
    """A dossier's id from the path; anything else is the same 'not found' page as another unit's dossier."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ApiError(404, "Not Found") from None


# ---------------------------------------------------------------- receiving


async def _reception(
    request: Request,
    officer: SignedIn,
    api: Api,
    *,
    code: str,
    query: str = "",
    form: ReceptionForm | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    catalogue = await use.catalogue(api)
    chosen = await use.procedure(api, code) if code else None
    units = receiving_units(officer.principal.units, catalogue["units"])
    found = await use.find_procedures(api, query) if query else []
    return render(
        request,
        "counter/reception.html",
        {
            "query": query,
            "results": found,
            "procedure": chosen,
            "units": units,
            "form": form or ReceptionForm(procedure_code=code, receiving_unit=units[0]["code"] if len(units) == 1 else ""),
            "errors": errors or {},
            "form_key": use.new_form_key(),
            "return_methods": RETURN_METHODS,
            "unknown_procedure": bool(code) and chosen is None,
        },
        status_code,
    )


@router.get("/tiep-nhan", include_in_schema=False)
async def reception(request: Request, officer: Receiver, api: Api, q: str = "", procedure: str = "") -> Response:
    return await _reception(request, officer, api, code=procedure.strip(), query=q.strip())


@router.get("/tiep-nhan/thu-tuc", include_in_schema=False)
async def procedure_search(request: Request, officer: Receiver, api: Api, q: str = "") -> Response:
    """The htmx partial: the procedures matching what the officer typed."""
    return render(request, "counter/_procedures.html", {"query": q.strip(), "results": await use.find_procedures(api, q)})


@router.post("/tiep-nhan", include_in_schema=False)
async def receive(request: Request, officer: Receiver, api: Api) -> Response:
    posted = await request.form()
    pairs = [(k, v) for k, v in posted.multi_items() if isinstance(v, str)]
    form = ReceptionForm.from_pairs(pairs)
    key = next((v for k, v in pairs if k == "form_key"), "") or use.new_form_key()
    chosen = await use.procedure(api, form.procedure_code) if form.procedure_code else None
    if chosen is None:
        errors = {"procedure_code": "Chưa chọn thủ tục, hoặc thủ tục không còn trong danh mục."}
        return await _reception(request, officer, api, code="", form=form, errors=errors, status_code=422)
    try:
        dossier = await use.receive_dossier(api, officer.token, form, chosen, key)
    except ApiError as exc:
        if exc.status != 422:
            raise
        errors = field_messages(exc.errors) or {"_": exc.detail or exc.title}
        return await _reception(request, officer, api, code=form.procedure_code, form=form, errors=errors, status_code=422)
    return RedirectResponse(f"/ho-so/{dossier['id']}/bien-nhan?ok={RECEIVED}", status_code=303)


# ---------------------------------------------------------------- the queue


@router.get("/ho-so", include_in_schema=False)
async def dossiers(request: Request, officer: Reader, api: Api, cursor: str | None = None) -> Response:
    filters = QueueFilters.from_query(request.query_params)
    _, errors = filters.api_params()
    catalogue = await use.catalogue(api)
    page = None
    if not errors:
        try:
            page = await use.queue(api, officer.token, filters, cursor)
        except ApiError as exc:
            if exc.status != 422:
                raise
            errors = {e.get("field", "_"): "Bộ lọc không hợp lệ." for e in exc.errors} or {"_": "Bộ lọc không hợp lệ."}
    return render(
        request,
        "counter/queue.html",
        {
            "filters": filters,
            "page": page,
            "errors": errors,
            "procedures": catalogue["procedures"],
            "first_page": cursor is None,
            "next_link": f"/ho-so?{filters.query_string(cursor=page['next_cursor'])}"
            if page and page.get("next_cursor")
            else None,
            "first_link": f"/ho-so?{filters.query_string()}",
        },
        200 if not errors else 422,
    )


# ---------------------------------------------------------------- one dossier


async def _dossier_page(
    request: Request,
    officer: SignedIn,
    api: Api,
    dossier_id: str,
    *,
    flash: str | None = None,
    failed: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    view = await use.dossier_view(api, officer.token, dossier_id)
    may_act = officer.principal.has(Role.COUNTER, Role.PROVINCE_ADMIN)
    return render(
        request,
        "counter/dossier.html",
        {
            "d": view.dossier,
            "slip": view.receipt,
            "route": view.route,
            "deadlines": view.deadlines,
            "clock": view.clock,
            "notices": view.notices,
            "unavailable": view.unavailable,
            "actions": actions_for(view.dossier["status"]) if may_act else [],
            "flash": flash,
            "failed": failed,
            "errors": errors or {},
            "values": values or {},
            "labels": LABELS,
        },
        status_code,
    )


@router.get("/ho-so/{dossier_id}", include_in_schema=False)
async def dossier(request: Request, dossier_id: str, officer: Reader, api: Api, ok: str = "") -> Response:
    return await _dossier_page(request, officer, api, _dossier_id(dossier_id), flash=FLASHES.get(ok))


async def _act(request: Request, dossier_id: str, action: Action, officer: SignedIn, api: Backend) -> Response:
    dossier_id = _dossier_id(dossier_id)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    try:
        await use.act(api, officer.token, dossier_id, action, form)
    except ApiError as exc:
        if exc.status == 409:
            return await _dossier_page(
                request, officer, api, dossier_id, failed=action.value, errors={"_": CONFLICT}, values=form, status_code=409
            )
        if exc.status != 422:
            raise
        errors = field_messages(exc.errors) or {"_": exc.detail or exc.title}
        return await _dossier_page(
            request, officer, api, dossier_id, failed=action.value, errors=errors, values=form, status_code=422
        )
    return RedirectResponse(f"/ho-so/{dossier_id}?ok={action.value}", status_code=303)


def _action_route(action: Action) -> None:
    """POST /ho-so/{id}/<the action's path>: one route per action, so other areas' paths under a dossier stay theirs."""

    async def route(request: Request, dossier_id: str, officer: Actor, api: Api) -> Response:
        return await _act(request, dossier_id, action, officer, api)

    router.add_api_route(f"/ho-so/{{dossier_id}}/{ACTION_PATHS[action]}", route, methods=["POST"], include_in_schema=False)


for _action in Action:
    _action_route(_action)


# ---------------------------------------------------------------- the printable forms


async def _receipt_form(request: Request, officer: SignedIn, api: Api, dossier_id: str) -> tuple[str, dict[str, Any]]:
    slip = await use.receipt(api, officer.token, dossier_id)
    link = lookup_link(wiring(request).settings.public_url, slip["dossier_code"], slip["lookup_secret"])
    return "counter/forms/receipt.html", {
        "r": slip,
        "qr": qr_svg(link),
        "lookup": link,
        "date_line": legal_date(slip["received_at"], wiring(request).settings.form_place),
        "receiver": slip.get("received_by") or officer.principal.name,
    }


async def _supplement_form(request: Request, officer: SignedIn, api: Api, dossier_id: str) -> tuple[str, dict[str, Any]]:
    slip, form = await use.supplement_request_form(api, officer.token, dossier_id)
    if form is None:
        return _absent("Hồ sơ này chưa có yêu cầu bổ sung nào.")
    return "counter/forms/supplement.html", {
        "r": slip,
        "f": form,
        "date_line": legal_date(form["requested_at"], wiring(request).settings.form_place),
    }


async def _refusal_form(request: Request, officer: SignedIn, api: Api, dossier_id: str) -> tuple[str, dict[str, Any]]:
    slip, form = await use.refusal_request_form(api, officer.token, dossier_id)
    if form is None:
        return _absent("Hồ sơ này không bị từ chối tiếp nhận.")
    return "counter/forms/refusal.html", {
        "r": slip,
        "f": form,
        "date_line": legal_date(form["refused_at"], wiring(request).settings.form_place),
    }


async def _apology_form(request: Request, officer: SignedIn, api: Api, dossier_id: str) -> tuple[str, dict[str, Any]]:
    slip, form = await use.apology_letter_form(api, officer.token, dossier_id)
    if form is None:
        return _absent("Hồ sơ này chưa quá hạn nên không có phiếu xin lỗi.")
    return "counter/forms/apology.html", {
        "r": slip,
        "f": form,
        "date_line": legal_date(form["issued_at"], wiring(request).settings.form_place),
    }


async def _control_form(request: Request, officer: SignedIn, api: Api, dossier_id: str) -> tuple[str, dict[str, Any]]:
    slip, sheet = await use.control_sheet_form(api, officer.token, dossier_id)
    if sheet is None:
        return _absent("Hồ sơ này chưa được chuyển đến cơ quan giải quyết nào.")
    return "counter/forms/control.html", {
        "r": slip,
        "f": sheet,
        "date_line": legal_date(datetime.now(UTC), wiring(request).settings.form_place),
    }


def _absent(message: str) -> tuple[str, dict[str, Any]]:
    return "error.html", {"title": "Chưa có phiếu này", "message": message, "status_code": 404}


FORMS = {
    "bien-nhan": (_receipt_form, "giay-tiep-nhan"),
    "phieu-bo-sung": (_supplement_form, "phieu-yeu-cau-bo-sung"),
    "phieu-tu-choi": (_refusal_form, "phieu-tu-choi"),
    "phieu-xin-loi": (_apology_form, "phieu-xin-loi-hen-lai"),
    "phieu-kiem-soat": (_control_form, "phieu-kiem-soat"),
}


async def _printable(
    request: Request, dossier_id: str, name: str, pdf: bool, officer: SignedIn, api: Backend, ok: str
) -> Response:
    """A form as a printable page, or as a PDF: the same page laid out by WeasyPrint."""
    dossier_id = _dossier_id(dossier_id)
    build, filename = FORMS[name]
    template, context = await build(request, officer, api, dossier_id)
    status_code = context.pop("status_code", 200)
    page = render(
        request,
        template,
        {**context, "pdf": pdf, "dossier_id": dossier_id, "form_path": f"/ho-so/{dossier_id}/{name}", "flash": FLASHES.get(ok)},
        status_code,
    )
    if not pdf or status_code != 200:
        return page
    code = context["r"]["dossier_code"]
    return Response(
        await html_to_pdf(bytes(page.body).decode("utf-8")),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}-{code}.pdf"'},
    )


def _form_route(name: str, pdf: bool) -> None:
    """GET /ho-so/{id}/<form>, or with `.pdf` its PDF."""

    async def route(request: Request, dossier_id: str, officer: Reader, api: Api, ok: str = "") -> Response:
        return await _printable(request, dossier_id, name, pdf, officer, api, ok)

    router.add_api_route(f"/ho-so/{{dossier_id}}/{name}{'.pdf' if pdf else ''}", route, methods=["GET"], include_in_schema=False)


for _name in FORMS:
    _form_route(_name, pdf=False)
    _form_route(_name, pdf=True)
