"""The counter's commands on a received dossier: supplement request (form 2), supplement handed
in, refusal (form 3), withdrawal, result returned. A counter officer acts on the dossiers of their
units (another unit's is 404), the province administrator on all; each answers 409 with the
current status when the status does not allow it. The citizen rates at `POST /lookup/rating`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, status

from intake.application import lifecycle
from intake.application.reading import get_dossier
from intake.deps import CounterCaller, UnitOfWorkDep
from intake.schemas import (
    DossierPublic,
    RefusalForm,
    RefusalIn,
    ResultReturnIn,
    SupplementIn,
    SupplementRequestForm,
    SupplementRequestIn,
    WithdrawalIn,
)

router = APIRouter(prefix="/dossiers", tags=["dossiers"])


def conflict(description: str) -> dict[int | str, dict[str, Any]]:
    return {
        404: {"description": "No such dossier, or one received at a unit the caller does not serve."},
        409: {"description": description},
    }


@router.post(
    "/{dossier_id}/supplement-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=SupplementRequestForm,
    summary="Ask the citizen to supplement the dossier, listing every missing item (form 2)",
    responses=conflict("Not possible in the dossier's current status (given in the answer)."),
)
async def request_supplement(
    dossier_id: UUID, body: SupplementRequestIn, uow: UnitOfWorkDep, principal: CounterCaller
) -> SupplementRequestForm:
    return await lifecycle.request_supplement(uow, principal, dossier_id, body.items, body.reason)


@router.post(
    "/{dossier_id}/supplements",
    response_model=DossierPublic,
    summary="Record the citizen's supplement; processing resumes",
    responses=conflict("No supplement was requested (current status in the answer)."),
)
async def receive_supplement(dossier_id: UUID, body: SupplementIn, uow: UnitOfWorkDep, principal: CounterCaller) -> DossierPublic:
    await lifecycle.receive_supplement(uow, principal, dossier_id, body.items)
    return await get_dossier(uow, principal.scope, dossier_id)


@router.post(
    "/{dossier_id}/refusal",
    response_model=RefusalForm,
    summary="Refuse the dossier at the counter, with the reason (form 3)",
    responses=conflict("Not possible in the dossier's current status (given in the answer)."),
)
async def refuse(dossier_id: UUID, body: RefusalIn, uow: UnitOfWorkDep, principal: CounterCaller) -> RefusalForm:
    return await lifecycle.refuse_dossier(uow, principal, dossier_id, body.reason)


@router.post(
    "/{dossier_id}/withdrawal",
    response_model=DossierPublic,
    summary="The citizen withdraws the dossier (recorded at the counter)",
    responses=conflict("Too late to withdraw (current status in the answer)."),
)
async def withdraw(dossier_id: UUID, body: WithdrawalIn, uow: UnitOfWorkDep, principal: CounterCaller) -> DossierPublic:
    await lifecycle.withdraw_dossier(uow, principal, dossier_id, body.reason)
    return await get_dossier(uow, principal.scope, dossier_id)


@router.post(
    "/{dossier_id}/result-return",
    response_model=DossierPublic,
    summary="Record that the result was returned (when, and how: counter, post, online)",
    responses=conflict("The result is not ready (current status in the answer)."),
)
async def return_result(dossier_id: UUID, body: ResultReturnIn, uow: UnitOfWorkDep, principal: CounterCaller) -> DossierPublic:
    await lifecycle.return_result(uow, principal, dossier_id, body.method, body.returned_at)
    return await get_dossier(uow, principal.scope, dossier_id)
