"""Every action on a step of the caller's agencies, over REST with a token of the identity provider
(an agency's officer, its own system by client credentials, or the province administrator): take
it on, complete, return, ask for a supplement or fees, record the payment, refuse, stop, resume,
transfer. The officer recorded is the caller. Another agency's step answers 404 (and is audited);
an action the step's state does not allow answers 409 with that state."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from routing.application import actions
from routing.application.actions import StepRef
from routing.deps import CalendarDep, StepOfficerDep, UnitOfWorkDep
from routing.schemas import (
    AcceptBody,
    AgencyStep,
    CompleteBody,
    FeeBody,
    FeePaymentBody,
    ReasonBody,
    ResumeBody,
    ReturnBody,
    SupplementBody,
    TransferBody,
)

router = APIRouter(prefix="/agency/steps/{dossier_id}/{step_id}", tags=["agencies"])


@router.post("/accept", response_model=AgencyStep, summary="Take the step on (tiếp nhận)")
async def accept(
    dossier_id: UUID, step_id: str, body: AcceptBody, uow: UnitOfWorkDep, calendar: CalendarDep, officer: StepOfficerDep
) -> AgencyStep:
    return await actions.accept_step(uow, calendar, StepRef(dossier_id, step_id), officer, note=body.note)


@router.post(
    "/complete",
    response_model=AgencyStep,
    summary="Complete the step with its result documents; the next steps are assigned",
)
async def complete(
    dossier_id: UUID, step_id: str, body: CompleteBody, uow: UnitOfWorkDep, calendar: CalendarDep, officer: StepOfficerDep
) -> AgencyStep:
    return await actions.complete_step(
        uow,
        calendar,
        StepRef(dossier_id, step_id),
        officer,
        result_documents=body.result_documents,
        note=body.note,
    )


@router.post("/return", response_model=AgencyStep, summary="Return the dossier to the previous step, with a reason")
async def return_step(
    dossier_id: UUID, step_id: str, body: ReturnBody, uow: UnitOfWorkDep, calendar: CalendarDep, officer: StepOfficerDep
) -> AgencyStep:
    return await actions.return_step(
        uow, calendar, StepRef(dossier_id, step_id), officer, reason=body.reason, to_step_id=body.to_step_id
    )


@router.post("/supplement", response_model=AgencyStep, summary="Ask the citizen for more documents (status 5; the clock pauses)")
async def supplement(
    dossier_id: UUID, step_id: str, body: SupplementBody, uow: UnitOfWorkDep, calendar: CalendarDep, officer: StepOfficerDep
) -> AgencyStep:
    return await actions.request_supplement(
        uow, calendar, StepRef(dossier_id, step_id), officer, items=body.items, reason=body.reason
    )


@router.post("/fee", response_model=AgencyStep, summary="Ask the citizen to pay fees or taxes (status 6; the clock pauses)")
async def fee(
    dossier_id: UUID, step_id: str, body: FeeBody, uow: UnitOfWorkDep, calendar: CalendarDep, officer: StepOfficerDep
) -> AgencyStep:
    return await actions.request_fee(
        uow,
        calendar,
        StepRef(dossier_id, step_id),
        officer,
        amount_vnd=body.amount_vnd,
        description=body.description,
    )


@router.post("/fee-payment", response_model=AgencyStep, summary="Record the payment; handling resumes")
async def fee_payment(
    dossier_id: UUID, step_id: str, body: FeePaymentBody, uow: UnitOfWorkDep, calendar: CalendarDep, officer: StepOfficerDep
) -> AgencyStep:
    return await actions.record_payment(
        uow,
        calendar,
        StepRef(dossier_id, step_id),
        officer,
        amount_vnd=body.amount_vnd,
        receipt_ref=body.receipt_ref,
    )


@router.post("/refuse", response_model=AgencyStep, summary="Refuse the dossier with its legal reason (status 3)")
async def refuse(
    dossier_id: UUID, step_id: str, body: ReasonBody, uow: UnitOfWorkDep, calendar: CalendarDep, officer: StepOfficerDep
) -> AgencyStep:
    return await actions.refuse_dossier(uow, calendar, StepRef(dossier_id, step_id), officer, reason=body.reason)


@router.post("/stop", response_model=AgencyStep, summary="Stop handling (status 8; the clock pauses)")
async def stop(
    dossier_id: UUID, step_id: str, body: ReasonBody, uow: UnitOfWorkDep, calendar: CalendarDep, officer: StepOfficerDep
) -> AgencyStep:
    return await actions.stop_handling(uow, calendar, StepRef(dossier_id, step_id), officer, reason=body.reason)


@router.post("/resume", response_model=AgencyStep, summary="Resume handling after a stop")
async def resume(
    dossier_id: UUID, step_id: str, body: ResumeBody, uow: UnitOfWorkDep, calendar: CalendarDep, officer: StepOfficerDep
) -> AgencyStep:
    return await actions.resume_handling(uow, calendar, StepRef(dossier_id, step_id), officer, note=body.note)


@router.post("/transfer", response_model=AgencyStep, summary="Transfer a misrouted step to the competent agency")
async def transfer(
    dossier_id: UUID, step_id: str, body: TransferBody, uow: UnitOfWorkDep, calendar: CalendarDep, officer: StepOfficerDep
) -> AgencyStep:
    return await actions.transfer_step(
        uow,
        calendar,
        StepRef(dossier_id, step_id),
        officer,
        to_agency_code=body.to_agency_code,
        reason=body.reason,
    )
