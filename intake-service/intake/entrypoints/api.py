"""Intake's REST API for the counter and the portals: receive a dossier, read it, print its
receipt (form 1), and the staff search. Staff see the dossiers received at their units only
(the province administrator all): another unit's dossier is 404."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import HTMLResponse

from intake.adapters.receipt import render_receipt_html
from intake.application.ports import SearchFilters
from intake.application.reading import get_dossier, receipt, search_dossiers
from intake.application.receiving import Claim, receive_dossier
from intake.deps import CalendarDep, CatalogueDep, ReadingCaller, ReceivingCaller, SettingsDep, UnitOfWorkDep
from intake.schemas import DossierCreate, DossierPublic, Receipt, SearchPage
from services.idempotency import KeyReused
from services.problems import Problem

router = APIRouter(prefix="/dossiers", tags=["dossiers"])


def key_reused() -> Problem:
    return Problem(  # 422 as the IETF Idempotency-Key draft asks
        422,
        "Idempotency-Key reused",
        "this Idempotency-Key was already used for a different dossier",
        type="idempotency-key-reused",
        errors=[{"field": "Idempotency-Key", "message": "used for a different request", "code": "key_reused"}],
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DossierPublic,
    summary="Receive a dossier (tiếp nhận hồ sơ)",
    description=(
        "A counter officer receives at one of their units (`receiving_unit`, by default the first they serve); "
        "the province administrator at any unit; the provincial portal files online dossiers (channel 2) only. "
        "The caller is recorded as the receiving officer (người tiếp nhận)."
    ),
    responses={
        422: {
            "description": "Invalid input (each field named), a unit the officer does not serve (`receiving_unit`), "
            "a portal dossier not filed online (`channel`), or an Idempotency-Key reused for another body; nothing changed."
        },
    },
)
async def receive(
    body: DossierCreate,
    principal: ReceivingCaller,
    uow: UnitOfWorkDep,
    catalogue: CatalogueDep,
    calendar: CalendarDep,
    settings: SettingsDep,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=200, description="Resubmitting with the same key returns the first result, never a second dossier."),
    ] = None,
) -> Response:
    claim = None if idempotency_key is None else Claim("counter", (idempotency_key,))
    try:
        received = await receive_dossier(uow, catalogue, calendar, settings.code_pattern, body, principal, claim)
    except KeyReused:
        raise key_reused() from None
    # The answer is DossierPublic already as JSON (and stored so for a replay): sent as it is.
    headers = {"Idempotent-Replayed": "true"} if received.replayed else None
    return Response(received.body, status_code=status.HTTP_201_CREATED, media_type="application/json", headers=headers)


@router.get(
    "",
    response_model=SearchPage,
    summary="Staff search over the dossiers of the caller's units: filters, cursor pagination, counts",
)
async def search(
    uow: UnitOfWorkDep,
    principal: ReadingCaller,
    status_: Annotated[list[int] | None, Query(alias="status", description="National status codes; repeat for several.")] = None,
    procedure_code: str | None = None,
    field_code: Annotated[str | None, Query(description="Lĩnh vực.")] = None,
    agency_code: Annotated[str | None, Query(description="Competent agency or the agency handling it now.")] = None,
    channel: Annotated[int | None, Query(ge=1, le=3)] = None,
    received_from: Annotated[datetime | None, Query(description="Inclusive, with offset.")] = None,
    received_to: Annotated[datetime | None, Query(description="Exclusive, with offset.")] = None,
    overdue: bool | None = None,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Part of a dossier code; or, exactly, the applicant's citizen id (12 digits), phone number or full "
            "name (case and spacing aside). Personal data is sealed at rest and found through blind indexes only: "
            "a part of a name finds nothing.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> SearchPage:
    filters = SearchFilters(status_, procedure_code, field_code, agency_code, channel, received_from, received_to, overdue, q)
    return await search_dossiers(uow, principal.scope, filters, limit=limit, cursor=cursor)


@router.get(
    "/{dossier_id}", response_model=DossierPublic, summary="A dossier with its supplements and full timeline (staff view)"
)
async def read(dossier_id: UUID, uow: UnitOfWorkDep, principal: ReadingCaller) -> DossierPublic:
    return await get_dossier(uow, principal.scope, dossier_id)


@router.get("/{dossier_id}/receipt", response_model=Receipt, summary="Receipt and appointment slip (form 1) as JSON")
async def receipt_json(dossier_id: UUID, uow: UnitOfWorkDep, settings: SettingsDep, principal: ReadingCaller) -> Receipt:
    return await receipt(uow, principal.scope, dossier_id, settings.public_base_url, form="json")


@router.get(
    "/{dossier_id}/receipt.html",
    response_class=HTMLResponse,
    summary="Receipt and appointment slip (form 1), printable, with the dossier code as a QR code",
)
async def receipt_html(dossier_id: UUID, uow: UnitOfWorkDep, settings: SettingsDep, principal: ReadingCaller) -> HTMLResponse:
    return HTMLResponse(
        render_receipt_html(await receipt(uow, principal.scope, dossier_id, settings.public_base_url, form="html"))
    )
