"""Intake's use cases over an in-memory repository and outbox: what the counter officer and the
citizen see happen, without a database or Kafka."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from intake.adapters.catalogue_file import load_catalogue
from intake.application import lifecycle
from intake.application.lookup import LookupLimit, TooManyLookups, look_up
from intake.application.reading import get_dossier
from intake.application.receiving import Claim, receive_dossier
from intake.application.timeline import record_event
from intake.schemas import DossierCreate
from services.calendar import working_calendar
from services.events.schemas import DossierReceived, StepAssigned, SupplementReceived, SupplementRequested
from services.idempotency import KeyReused
from services.problems import Problem
from services.vocabulary import PortalStatus

CATALOGUE = load_catalogue()
CALENDAR = working_calendar()
PATTERN = "{unit}-{date:%y%m%d}-{seq:04d}"
MONDAY_9AM = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam

BIRTH = {
    "procedure_code": "1.001193",
    "channel": 1,
    "documents": [{"code": "birth-certificate"}, {"code": "interlinked-form"}],
    "applicant": {"name": "Nguyễn Thị Lan", "citizen_id": "079190001234", "phone": "0912345678", "notify_channels": ["sms"]},
}


def dossier(**changes: Any) -> DossierCreate:
    return DossierCreate.model_validate({**BIRTH, **changes})


async def receive(memory: Any, body: DossierCreate | None = None, claim: Claim | None = None) -> dict[str, Any]:
    received = await receive_dossier(memory.uow, CATALOGUE, CALENDAR, PATTERN, body or dossier(), claim, now=MONDAY_9AM)
    return json.loads(received.body)


async def test_a_complete_dossier_gets_its_code_appointment_and_receipt_event(memory: Any) -> None:
    answer = await receive(memory)

    unit = CATALOGUE.default_unit.code
    assert answer["code"] == f"{unit}-261123-0001" and answer["status"] == PortalStatus.ACCEPTED
    procedure = CATALOGUE.get("1.001193")
    assert procedure is not None
    expected = CALENDAR.add_working_hours(CALENDAR.clock_start(MONDAY_9AM, procedure.cutoff), procedure.budget_hours)
    assert datetime.fromisoformat(answer["appointment_at"]) == expected
    [received] = memory.events.of(DossierReceived)
    assert received.dossier_code == answer["code"] and received.applicant.phone == "0912345678"
    assert [s.step_id for s in received.route] == [s.step_id for s in procedure.route]
    assert [e["label"] for e in memory.dossiers.entries] == ["Đã tiếp nhận"]
    assert memory.uow.commits == 1


async def test_an_incomplete_dossier_is_refused_naming_the_missing_item_and_nothing_is_recorded(memory: Any) -> None:
    with pytest.raises(Problem) as refused:
        await receive(memory, dossier(documents=[{"code": "birth-certificate"}]))

    assert refused.value.status == 422
    assert [e["field"] for e in refused.value.extensions["errors"]] == ["documents"]
    assert "interlinked-form" in refused.value.extensions["errors"][0]["message"]
    assert memory.dossiers.rows == {} and memory.events.events == [] and memory.dossiers.sequences == {}


async def test_a_retried_receipt_answers_the_first_dossier_and_another_body_under_the_key_is_refused(memory: Any) -> None:
    key = Claim("counter", ("counter-7-0001",))
    first = await receive(memory, claim=key)
    again = await receive_dossier(memory.uow, CATALOGUE, CALENDAR, PATTERN, dossier(), key, now=MONDAY_9AM)

    assert again.replayed and json.loads(again.body)["id"] == first["id"]
    assert len(memory.dossiers.rows) == 1 and len(memory.events.of(DossierReceived)) == 1
    assert sum(memory.dossiers.sequences.values()) == 1  # a replay spends no dossier number
    other = dossier(applicant={**BIRTH["applicant"], "name": "Người Khác"})
    with pytest.raises(KeyReused):
        await receive(memory, other, key)
    assert len(memory.dossiers.rows) == 1


async def test_a_unit_past_9999_dossiers_a_day_answers_503_and_records_nothing(memory: Any) -> None:
    unit = CATALOGUE.default_unit.code
    memory.dossiers.sequences[(unit, MONDAY_9AM.date())] = 9999
    with pytest.raises(Problem) as exhausted:
        await receive(memory)
    assert exhausted.value.status == 503 and exhausted.value.type == "codes-exhausted"
    assert memory.dossiers.rows == {} and memory.events.events == []


async def test_a_supplement_request_pauses_the_dossier_and_the_answer_resumes_it(memory: Any) -> None:
    dossier_id = UUID((await receive(memory))["id"])
    form = await lifecycle.request_supplement(memory.uow, dossier_id, ["Giấy chứng sinh (bản chính)"], "Thiếu giấy chứng sinh")

    assert form.status == PortalStatus.SUPPLEMENT_REQUESTED and form.items == ["Giấy chứng sinh (bản chính)"]
    assert memory.events.of(SupplementRequested)[0].requested_by == "counter"

    await lifecycle.receive_supplement(memory.uow, dossier_id, ["Giấy chứng sinh (bản chính)"])
    public = await get_dossier(memory.uow, dossier_id)
    assert public.status == PortalStatus.ACCEPTED  # back where it was before the request
    assert public.supplements[0].received_items == ["Giấy chứng sinh (bản chính)"]
    assert memory.events.of(SupplementReceived)[0].items == ["Giấy chứng sinh (bản chính)"]
    assert [e.kind for e in public.timeline] == ["received", "supplement_requested", "supplement_received"]


async def test_a_command_the_status_does_not_allow_is_409_naming_the_status_and_changes_nothing(memory: Any) -> None:
    dossier_id = UUID((await receive(memory))["id"])
    events_before = len(memory.events.events)

    with pytest.raises(Problem) as conflict:
        await lifecycle.return_result(memory.uow, dossier_id, "counter", None)

    assert conflict.value.status == 409 and conflict.value.extensions["current_status"] == PortalStatus.ACCEPTED
    assert memory.dossiers.rows[dossier_id]["status"] == PortalStatus.ACCEPTED and len(memory.events.events) == events_before
    with pytest.raises(Problem) as missing:
        await lifecycle.withdraw_dossier(memory.uow, uuid4(), None)
    assert missing.value.status == 404


async def test_routing_taking_the_step_puts_the_dossier_in_progress_at_that_agency(memory: Any) -> None:
    dossier_id = (await receive(memory))["id"]
    assigned = StepAssigned(
        step_id="civil-status", agency_code="UBND-XA", agency_name="UBND xã", budget_hours=8, assigned_at=MONDAY_9AM
    )

    await record_event(memory.uow.unit, assigned.envelope(dossier_id=dossier_id, producer="routing"))

    row = memory.dossiers.rows[UUID(dossier_id)]
    assert row["status"] == PortalStatus.IN_PROGRESS and row["current_agency_name"] == "UBND xã"
    assert memory.dossiers.entries[-1]["label"] == "Chuyển đến UBND xã"
    with pytest.raises(LookupError):  # dead-lettered until the receipt is there
        await record_event(memory.uow.unit, assigned.envelope(dossier_id=str(uuid4()), producer="routing"))


async def test_the_citizen_look_up_is_limited_per_client_and_does_not_say_which_half_is_wrong(memory: Any) -> None:
    answer = await receive(memory)
    limit = LookupLimit(per_window=2, window_seconds=600)

    found = await look_up(memory.uow, limit, "198.51.100.7", answer["code"], answer["lookup_secret"].lower())
    assert found.status == PortalStatus.ACCEPTED and found.applicant == "N***** T** L**"
    with pytest.raises(Problem) as wrong:
        await look_up(memory.uow, limit, "198.51.100.7", answer["code"], "WRONG123")
    assert wrong.value.status == 404
    with pytest.raises(TooManyLookups):
        await look_up(memory.uow, limit, "198.51.100.7", answer["code"], answer["lookup_secret"])
