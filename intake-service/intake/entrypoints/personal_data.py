"""A citizen's personal-data requests (Decree 13/2023): the operator asks intake to export or erase
everything held about a citizen id across the services, and follows the answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from intake.application.personal_data import list_personal_data_requests, read_personal_data_request, request_personal_data
from intake.deps import OperatorCaller, UnitOfWorkDep
from intake.schemas import PersonalDataRequestCreate, PersonalDataRequestPublic, PersonalDataRequestSummary

router = APIRouter(prefix="/personal-data", tags=["personal data"])


@router.post(
    "/requests",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonalDataRequestPublic,
    summary="Export or erase everything held about a citizen id, in every service",
    description=(
        "Finds the citizen's dossiers by the blind index of the id; intake does its part at once and sends "
        "`personal_data.requested` per dossier to routing, deadline and notify. An erasure leaves dossiers still in "
        "progress (listed in `kept`, with the reason): the law allows erasure once the procedure ended."
    ),
    responses={422: {"description": "`citizen_id` is not 12 digits, or `kind` is neither export nor erasure."}},
)
async def create_request(
    body: PersonalDataRequestCreate, uow: UnitOfWorkDep, principal: OperatorCaller
) -> PersonalDataRequestPublic:
    return await request_personal_data(uow, principal, body.citizen_id, body.kind)


@router.get(
    "/requests/{request_id}",
    response_model=PersonalDataRequestPublic,
    summary="A personal-data request: its dossiers, the ones kept, who answered, and intake's own part (read audited)",
    responses={404: {"description": "No such request."}},
)
async def read_request(
    request_id: Annotated[str, Path(max_length=64, pattern=r"^pdr-[0-9a-f]+$")], uow: UnitOfWorkDep, principal: OperatorCaller
) -> PersonalDataRequestPublic:
    return await read_personal_data_request(uow, request_id)


@router.get(
    "/requests",
    response_model=list[PersonalDataRequestSummary],
    summary="The newest personal-data requests: what was asked, when and by whom (no citizen is named)",
)
async def list_requests(
    uow: UnitOfWorkDep, principal: OperatorCaller, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[PersonalDataRequestSummary]:
    return await list_personal_data_requests(uow, limit)
