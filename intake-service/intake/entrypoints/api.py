"""Intake's REST API for the counter and the portals: receive a dossier, print its receipt, the
lifecycle commands (supplement, refusal, withdrawal, result returned, rating), staff search."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import Table, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters import repository
from intake.adapters.receipt import render_receipt_html
from intake.adapters.tables import dossiers, idempotency_keys, supplement_requests
from intake.domain.catalogue import Catalogue, Procedure, load_catalogue
from intake.domain.dossier import STATUS_LABELS_VI, PortalStatus, dossier_code, new_secret, vn_time
from intake.domain.lifecycle import Command, IllegalTransition, State, apply_command
from intake.domain.receiving import Submission, check_submission
from intake.entrypoints.schemas import (
    DossierCreate,
    DossierPublic,
    DossierSummary,
    RatingIn,
    Receipt,
    ReceiptDocument,
    ReceiptFee,
    RefusalForm,
    RefusalIn,
    ResultReturnIn,
    SearchCounts,
    SearchPage,
    SupplementIn,
    SupplementPublic,
    SupplementRequestForm,
    SupplementRequestIn,
    TimelineEntry,
    WithdrawalIn,
)
from services.calendar import VN_TZ, working_calendar
from services.db import insert_row
from services.events import Envelope, Event
from services.events.schemas import (
    ApplicantContact,
    DossierRated,
    DossierReceived,
    DossierRefused,
    DossierWithdrawn,
    ResultReturned,
    SupplementReceived,
    SupplementRequested,
)
from services.problems import Problem
from services.web import RuntimeDep, StaffOnly

router = APIRouter(prefix="/dossiers", tags=["dossiers"], dependencies=StaffOnly)
calendar = working_calendar()

CHANNEL_LABELS = {1: "Trực tiếp tại Bộ phận Một cửa", 2: "Trực tuyến", 3: "Qua dịch vụ bưu chính công ích"}
RETURN_LABELS = {"counter": "Bộ phận Một cửa", "post": "dịch vụ bưu chính công ích", "online": "cổng dịch vụ công (bản điện tử)"}


def catalogue_of(runtime: Any) -> Catalogue:
    return load_catalogue(runtime.settings.catalogue_path)


def invalid(errors: list[dict[str, str]]) -> Problem:
    return Problem(
        422, "Invalid request", "; ".join(f"{e['field']}: {e['message']}" for e in errors), type="validation", errors=errors
    )


def conflict(command: str, current: PortalStatus) -> Problem:
    return Problem(
        409,
        "Illegal transition",
        f"cannot {command.replace('_', ' ')}: the dossier is in status {int(current)} ({STATUS_LABELS_VI[current]})",
        type="illegal-transition",
        current_status=int(current),
        current_status_label=STATUS_LABELS_VI[current],
    )


# ---------------------------------------------------------------- receiving


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DossierPublic,
    summary="Receive a dossier (tiếp nhận hồ sơ)",
    responses={
        422: {"description": "Invalid input (each field named) or an Idempotency-Key reused for another body; nothing changed."},
    },
)
async def receive_dossier(
    body: DossierCreate,
    runtime: RuntimeDep,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=200, description="Resubmitting with the same key returns the first result, never a second dossier."),
    ] = None,
) -> Response:
    key = None if idempotency_key is None else Claim(idempotency_keys, {"key": idempotency_key}, key_reused)
    result, replayed = await receive_once(runtime, body, key)
    # `result` is DossierPublic already dumped as JSON (and stored so for a replay): sent as is,
    # not validated into the response model and serialised a second time.
    return JSONResponse(
        result, status_code=status.HTTP_201_CREATED, headers={"Idempotent-Replayed": "true"} if replayed else None
    )


def key_reused() -> Problem:
    return Problem(  # 422 as the IETF Idempotency-Key draft asks
        422,
        "Idempotency-Key reused",
        "this Idempotency-Key was already used for a different dossier",
        type="idempotency-key-reused",
        errors=[{"field": "Idempotency-Key", "message": "used for a different request", "code": "key_reused"}],
    )


@dataclass(frozen=True)
class Claim:
    """Where a receipt's idempotency key is recorded (a table with `request_hash`, `dossier_id` and
    `response`), the key's columns, and the refusal when the key comes back with another body."""

    table: Table
    key: dict[str, str]
    reused: Callable[[], Problem]


async def receive_once(runtime: Any, body: DossierCreate, claim: Claim | None) -> tuple[dict[str, Any], bool]:
    """Receive a dossier (checks, code, appointment, `dossier.received`), once per claim: the same
    key with the same body answers the first result (and True), with another body `claim.reused()`.
    The counter's `POST /dossiers` and the LGSP's `POST /lgsp/dossiers` both receive through here."""
    catalogue = catalogue_of(runtime)
    applicant = body.applicant
    procedure, errors = check_submission(
        catalogue,
        Submission(
            procedure_code=body.procedure_code,
            channel=body.channel,
            receiving_unit=body.receiving_unit,
            document_codes=[d.code for d in body.documents],
            applicant_kind=applicant.kind,
            citizen_id=applicant.citizen_id,
            tax_code=applicant.tax_code,
            phone=applicant.phone,
            email=applicant.email,
            notify_channels=applicant.notify_channels,
        ),
    )
    if errors or procedure is None:
        raise invalid([e.as_dict() for e in errors])
    request_hash = hashlib.sha256(body.model_dump_json().encode()).hexdigest()

    async with runtime.sessionmaker() as session, session.begin():
        if claim is not None:
            table, where = claim.table, [claim.table.c[column] == value for column, value in claim.key.items()]
            claimed = (
                await session.execute(
                    pg_insert(table)
                    .values(**claim.key, request_hash=request_hash)
                    .on_conflict_do_nothing()
                    .returning(table.c.request_hash)
                )
            ).first()
            if claimed is None:  # the first request with this key has committed (the insert waited for it)
                first = (await session.execute(select(table).where(*where))).mappings().one()
                if first["request_hash"] != request_hash:
                    raise claim.reused()
                return first["response"], True
        public = await _receive(session, runtime, catalogue, procedure, body)
        result = public.model_dump(mode="json")
        if claim is not None:
            await session.execute(update(table).where(*where).values(dossier_id=public.id, response=result))
    return result, False


async def _receive(
    session: AsyncSession, runtime: Any, catalogue: Catalogue, procedure: Procedure, body: DossierCreate
) -> DossierPublic:
    unit = catalogue.unit(body.receiving_unit) if body.receiving_unit else catalogue.default_unit
    assert unit is not None
    received_at = datetime.now(UTC)
    clock_starts_at = calendar.clock_start(received_at, procedure.cutoff)
    appointment_at = calendar.add_working_hours(clock_starts_at, procedure.budget_hours)
    dossier_id = uuid4()
    applicant = body.applicant
    sequence = await repository.next_sequence(runtime.engine, unit.code, received_at.astimezone(VN_TZ).date())
    try:
        code = dossier_code(unit.code, received_at, sequence, runtime.settings.code_pattern)
    except ValueError as exc:
        raise Problem(503, "Daily dossier codes exhausted", str(exc), type="codes-exhausted") from exc
    secret = new_secret()
    handed_in = {d.code: d for d in body.documents}
    documents = [
        {"code": d.code, "name": d.name, "originals": handed_in[d.code].originals, "copies": handed_in[d.code].copies}
        for d in procedure.documents
        if d.code in handed_in
    ]
    await insert_row(
        session,
        dossiers,
        dict(
            id=dossier_id,
            code=code,
            procedure_code=procedure.code,
            procedure_name=procedure.name,
            field_code=procedure.field,
            agency_code=procedure.competent_agency.code,
            catalogue_version=catalogue.version,
            procedure_snapshot={
                **procedure.model_dump(mode="json"),
                "field_name": catalogue.field_name(procedure.field),
                "unit_name": unit.name,
            },
            receiving_unit=unit.code,
            channel=body.channel,
            status=int(PortalStatus.ACCEPTED),
            applicant={**applicant.model_dump(mode="json"), "result_delivery": body.result_delivery},
            applicant_name=applicant.name,
            lookup_secret=secret,
            documents=documents,
            received_at=received_at,
            clock_starts_at=clock_starts_at,
            appointment_at=appointment_at,
            budget_hours=procedure.budget_hours,
        ),
    )
    envelope = await runtime.outbox.emit(
        session,
        DossierReceived(
            dossier_code=code,
            procedure_code=procedure.code,
            procedure_name=procedure.name,
            field_code=procedure.field,
            catalogue_version=catalogue.version,
            receiving_unit=unit.code,
            channel=body.channel,
            fully_online=procedure.fully_online and body.channel == 2,
            received_at=received_at,
            clock_starts_at=clock_starts_at,
            appointment_at=appointment_at,
            budget_hours=procedure.budget_hours,
            resume_rule=procedure.resume_rule,
            route=procedure.route,
            applicant=ApplicantContact(
                name=applicant.name,
                phone=applicant.phone,
                email=applicant.email,
                notify_channels=applicant.notify_channels or ["console"],
                opt_out_non_essential=applicant.opt_out_non_essential,
            ),
        ),
        dossier_id=str(dossier_id),
    )
    entry = TimelineEntry(at=received_at, kind="received", label=STATUS_LABELS_VI[PortalStatus.ACCEPTED], detail={"code": code})
    await repository.add_timeline(session, dossier_id, event_id=envelope.event_id, **entry.model_dump())
    return DossierPublic(
        id=dossier_id,
        code=code,
        procedure_code=procedure.code,
        procedure_name=procedure.name,
        field_code=procedure.field,
        catalogue_version=catalogue.version,
        receiving_unit=unit.code,
        channel=body.channel,
        status=PortalStatus.ACCEPTED,
        status_label=STATUS_LABELS_VI[PortalStatus.ACCEPTED],
        received_at=received_at,
        appointment_at=appointment_at,
        lookup_secret=secret,
        timeline=[entry],
    )


# ---------------------------------------------------------------- reading


async def _load(session: AsyncSession, dossier_id: UUID) -> dict[str, Any]:
    row = (await session.execute(select(dossiers).where(dossiers.c.id == dossier_id))).mappings().first()
    if row is None:
        raise Problem(404, "Not found", f"no dossier {dossier_id}", type="not-found")
    return dict(row)


async def _public(session: AsyncSession, row: dict[str, Any]) -> DossierPublic:
    entries = await repository.read_timeline(session, row["id"])
    supplements = await repository.read_supplements(session, row["id"])
    current = PortalStatus(row["status"])
    return DossierPublic(
        id=row["id"],
        code=row["code"],
        procedure_code=row["procedure_code"],
        procedure_name=row["procedure_name"],
        field_code=row["field_code"],
        catalogue_version=row["catalogue_version"],
        receiving_unit=row["receiving_unit"],
        channel=row["channel"],
        status=current,
        status_label=STATUS_LABELS_VI[current],
        received_at=row["received_at"],
        appointment_at=row["appointment_at"],
        overdue=row["overdue"],
        current_agency=row["current_agency_name"],
        returned_at=row["returned_at"],
        return_method=row["return_method"],
        rating=row["rating"],
        closing_reason=row["closing_reason"],
        supplements=[SupplementPublic.model_validate(s) for s in supplements],
        timeline=[TimelineEntry.model_validate(e) for e in entries],
    )


@router.get("", response_model=SearchPage, summary="Staff search: filters, cursor pagination, counts")
async def search_dossiers(
    runtime: RuntimeDep,
    status_: Annotated[list[int] | None, Query(alias="status", description="National status codes; repeat for several.")] = None,
    procedure_code: str | None = None,
    field_code: Annotated[str | None, Query(description="Lĩnh vực.")] = None,
    agency_code: Annotated[str | None, Query(description="Competent agency or the agency handling it now.")] = None,
    channel: Annotated[int | None, Query(ge=1, le=3)] = None,
    received_from: Annotated[datetime | None, Query(description="Inclusive, with offset.")] = None,
    received_to: Annotated[datetime | None, Query(description="Exclusive, with offset.")] = None,
    overdue: bool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="Text in the applicant's name or the dossier code.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> SearchPage:
    errors = [
        {"field": name, "message": "needs a UTC offset", "code": "naive_datetime"}
        for name, value in (("received_from", received_from), ("received_to", received_to))
        if value is not None and value.tzinfo is None
    ]
    errors += [
        {"field": "status", "message": f"{s} is not a status code (1–10)", "code": "unknown_status"}
        for s in status_ or []
        if not 1 <= s <= 10
    ]
    position = None
    if cursor is not None:
        try:
            position = repository.decode_cursor(cursor)
        except (ValueError, TypeError):
            errors.append({"field": "cursor", "message": "not a cursor from a previous page", "code": "bad_cursor"})
    if errors:
        raise invalid(errors)
    now = datetime.now(UTC)
    clauses = repository.search_filters(
        status=status_,
        procedure_code=procedure_code,
        field_code=field_code,
        agency_code=agency_code,
        channel=channel,
        received_from=received_from,
        received_to=received_to,
        overdue=overdue,
        q=q,
        now=now,
    )
    async with runtime.sessionmaker() as session:
        rows, total, by_status, overdue_count = await repository.search(session, clauses, limit=limit, cursor=position, now=now)
    page = rows[:limit]
    return SearchPage(
        items=[
            DossierSummary(
                **{k: r[k] for k in DossierSummary.model_fields if k in r and k not in ("overdue", "status_label")},
                status_label=STATUS_LABELS_VI[PortalStatus(r["status"])],
                overdue=bool(r["is_overdue"]),
            )
            for r in page
        ],
        next_cursor=repository.encode_cursor(page[-1]["received_at"], page[-1]["id"]) if len(rows) > limit else None,
        counts=SearchCounts(total=total, by_status={str(k): v for k, v in sorted(by_status.items())}, overdue=overdue_count),
    )


@router.get(
    "/{dossier_id}", response_model=DossierPublic, summary="A dossier with its supplements and full timeline (staff view)"
)
async def get_dossier(dossier_id: UUID, runtime: RuntimeDep) -> DossierPublic:
    async with runtime.sessionmaker() as session:
        return await _public(session, await _load(session, dossier_id))


async def _receipt(runtime: Any, dossier_id: UUID) -> Receipt:
    async with runtime.sessionmaker() as session:
        row = await _load(session, dossier_id)
    snapshot, applicant = row["procedure_snapshot"], row["applicant"]
    fees = [ReceiptFee(name=f["name"], amount_vnd=f["amount_vnd"]) for f in snapshot.get("fees", [])]
    return Receipt(
        dossier_code=row["code"],
        lookup_secret=row["lookup_secret"],
        unit_code=row["receiving_unit"],
        unit_name=snapshot.get("unit_name", row["receiving_unit"]),
        applicant_name=applicant["name"],
        applicant_phone=applicant.get("phone"),
        applicant_email=applicant.get("email"),
        procedure_code=row["procedure_code"],
        procedure_name=row["procedure_name"],
        field_name=snapshot.get("field_name", row["field_code"]),
        channel=row["channel"],
        channel_label=CHANNEL_LABELS[row["channel"]],
        documents=[ReceiptDocument.model_validate(d) for d in row["documents"]],
        fees=fees,
        received_at=row["received_at"],
        appointment_at=row["appointment_at"],
        received_at_local=vn_time(row["received_at"]),
        appointment_at_local=vn_time(row["appointment_at"]),
        return_place=RETURN_LABELS[applicant.get("result_delivery", "counter")],
        lookup_url=f"{runtime.settings.public_base_url}/tra-cuu?ma={row['code']}",
        catalogue_version=row["catalogue_version"],
    )


@router.get("/{dossier_id}/receipt", response_model=Receipt, summary="Receipt and appointment slip (form 1) as JSON")
async def receipt_json(dossier_id: UUID, runtime: RuntimeDep) -> Receipt:
    return await _receipt(runtime, dossier_id)


@router.get(
    "/{dossier_id}/receipt.html",
    response_class=HTMLResponse,
    summary="Receipt and appointment slip (form 1), printable, with the dossier code as a QR code",
)
async def receipt_html(dossier_id: UUID, runtime: RuntimeDep) -> HTMLResponse:
    return HTMLResponse(render_receipt_html(await _receipt(runtime, dossier_id)))


# ---------------------------------------------------------------- lifecycle

Effect = Callable[[AsyncSession, dict[str, Any], datetime], Awaitable[tuple[dict[str, Any], Event, str, dict[str, Any]]]]


async def _transition(runtime: Any, dossier_id: UUID, command: Command, effect: Effect) -> tuple[dict[str, Any], Envelope]:
    """Lock the dossier, check the command is legal in its status (409 otherwise), apply the
    effect, emit its event and add it to the timeline, all in one transaction."""
    async with runtime.sessionmaker() as session, session.begin():
        row = await repository.lock_dossier(session, dossier_id)
        if row is None:
            raise Problem(404, "Not found", f"no dossier {dossier_id}", type="not-found")
        state = State(
            PortalStatus(row["status"]),
            PortalStatus(row["resume_status"]) if row["resume_status"] else None,
            row["rating"] is not None,
        )
        try:
            after = apply_command(state, command)
        except IllegalTransition:
            raise conflict(command.value, state.status) from None
        now = datetime.now(UTC)
        changes, event, label, detail = await effect(session, row, now)
        changes |= {
            "status": int(after.status),
            "resume_status": int(after.resume_status) if after.resume_status else None,
            "updated_at": now,
        }
        await session.execute(update(dossiers).where(dossiers.c.id == dossier_id).values(**changes))
        envelope = await runtime.outbox.emit(session, event, dossier_id=str(dossier_id))
        await repository.add_timeline(
            session,
            dossier_id,
            at=now,
            kind=event.event_type.split(".", 1)[1],
            label=label,
            detail=detail,
            event_id=envelope.event_id,
        )
        return {**row, **changes}, envelope


@router.post(
    "/{dossier_id}/supplement-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=SupplementRequestForm,
    summary="Ask the citizen to supplement the dossier, listing every missing item (form 2)",
    responses={409: {"description": "Not possible in the dossier's current status (given in the answer)."}},
)
async def request_supplement(dossier_id: UUID, body: SupplementRequestIn, runtime: RuntimeDep) -> SupplementRequestForm:
    async def effect(session: AsyncSession, row: dict[str, Any], now: datetime) -> Any:
        await session.execute(
            insert(supplement_requests).values(
                dossier_id=dossier_id,
                requested_by="counter",
                items=body.items,
                reason=body.reason,
                requested_at=now,
                appointment_before=row["appointment_at"],
            )
        )
        event = SupplementRequested(requested_by="counter", items=body.items, reason=body.reason, requested_at=now)
        return {}, event, "Yêu cầu bổ sung hồ sơ: " + "; ".join(body.items), {"requested_by": "counter", "items": body.items}

    row, _ = await _transition(runtime, dossier_id, Command.REQUEST_SUPPLEMENT, effect)
    return SupplementRequestForm(
        dossier_code=row["code"],
        applicant_name=row["applicant_name"],
        procedure_name=row["procedure_name"],
        requested_by="counter",
        items=body.items,
        reason=body.reason,
        requested_at=row["updated_at"],
        appointment_before=row["appointment_at"],
        status=row["status"],
        status_label=STATUS_LABELS_VI[PortalStatus(row["status"])],
    )


@router.post(
    "/{dossier_id}/supplements",
    response_model=DossierPublic,
    summary="Record the citizen's supplement; processing resumes",
    responses={409: {"description": "No supplement was requested (current status in the answer)."}},
)
async def receive_supplement(dossier_id: UUID, body: SupplementIn, runtime: RuntimeDep) -> DossierPublic:
    async def effect(session: AsyncSession, row: dict[str, Any], now: datetime) -> Any:
        open_request = await repository.open_supplement_request(session, dossier_id)
        if open_request is not None:
            await session.execute(
                update(supplement_requests)
                .where(supplement_requests.c.id == open_request["id"])
                .values(received_at=now, received_items=body.items)
            )
        event = SupplementReceived(received_at=now, items=body.items)
        return {}, event, "Công dân đã bổ sung hồ sơ; tiếp tục giải quyết", {"items": body.items}

    await _transition(runtime, dossier_id, Command.RECEIVE_SUPPLEMENT, effect)
    return await get_dossier(dossier_id, runtime)


@router.post(
    "/{dossier_id}/refusal",
    response_model=RefusalForm,
    summary="Refuse the dossier at the counter, with the reason (form 3)",
    responses={409: {"description": "Not possible in the dossier's current status (given in the answer)."}},
)
async def refuse(dossier_id: UUID, body: RefusalIn, runtime: RuntimeDep) -> RefusalForm:
    async def effect(session: AsyncSession, row: dict[str, Any], now: datetime) -> Any:
        event = DossierRefused(refused_by="counter", reason=body.reason, refused_at=now)
        return (
            {"closing_reason": body.reason},
            event,
            f"Từ chối tiếp nhận: {body.reason}",
            {"refused_by": "counter", "reason": body.reason},
        )

    row, _ = await _transition(runtime, dossier_id, Command.REFUSE, effect)
    return RefusalForm(
        dossier_code=row["code"],
        applicant_name=row["applicant_name"],
        procedure_name=row["procedure_name"],
        reason=body.reason,
        refused_at=row["updated_at"],
        status=row["status"],
        status_label=STATUS_LABELS_VI[PortalStatus(row["status"])],
    )


@router.post(
    "/{dossier_id}/withdrawal",
    response_model=DossierPublic,
    summary="The citizen withdraws the dossier",
    responses={409: {"description": "Too late to withdraw (current status in the answer)."}},
)
async def withdraw(dossier_id: UUID, body: WithdrawalIn, runtime: RuntimeDep) -> DossierPublic:
    async def effect(session: AsyncSession, row: dict[str, Any], now: datetime) -> Any:
        event = DossierWithdrawn(reason=body.reason, withdrawn_at=now)
        return {"closing_reason": body.reason}, event, "Công dân rút hồ sơ", {"reason": body.reason}

    await _transition(runtime, dossier_id, Command.WITHDRAW, effect)
    return await get_dossier(dossier_id, runtime)


@router.post(
    "/{dossier_id}/result-return",
    response_model=DossierPublic,
    summary="Record that the result was returned (when, and how: counter, post, online)",
    responses={409: {"description": "The result is not ready (current status in the answer)."}},
)
async def return_result(dossier_id: UUID, body: ResultReturnIn, runtime: RuntimeDep) -> DossierPublic:
    async def effect(session: AsyncSession, row: dict[str, Any], now: datetime) -> Any:
        returned_at = body.returned_at or now
        if returned_at > now or returned_at < row["received_at"]:
            raise invalid([{"field": "returned_at", "message": "must lie between receipt and now", "code": "out_of_range"}])
        event = ResultReturned(returned_at=returned_at, method=body.method)
        label = f"Đã trả kết quả qua {RETURN_LABELS[body.method]}"
        return (
            {"returned_at": returned_at, "return_method": body.method},
            event,
            label,
            {"method": body.method, "returned_at": returned_at.isoformat()},
        )

    await _transition(runtime, dossier_id, Command.RETURN_RESULT, effect)
    return await get_dossier(dossier_id, runtime)


@router.post(
    "/{dossier_id}/rating",
    response_model=DossierPublic,
    summary="The citizen's satisfaction rating, once, after the result was returned",
    responses={409: {"description": "Not returned yet, or already rated (current status in the answer)."}},
)
async def rate(dossier_id: UUID, body: RatingIn, runtime: RuntimeDep) -> DossierPublic:
    async def effect(session: AsyncSession, row: dict[str, Any], now: datetime) -> Any:
        event = DossierRated(score=body.score, comment=body.comment, rated_at=now)
        return (
            {"rating": body.score, "rating_comment": body.comment},
            event,
            f"Đánh giá mức độ hài lòng: {body.score}/5",
            {"score": body.score},
        )

    await _transition(runtime, dossier_id, Command.RATE, effect)
    return await get_dossier(dossier_id, runtime)
