"""Intake's use cases over an in-memory repository and outbox: what the counter officer and the
citizen see happen, without a database or Kafka. Callers are principals as a token would give them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from intake.adapters.catalogue_file import load_catalogue
from intake.application import lifecycle
from intake.application.lookup import LookupLimit, TooManyLookups, look_up
from intake.application.ports import SearchFilters
from intake.application.reading import get_dossier, receipt, search_dossiers
from intake.application.receiving import Claim, receive_dossier
from intake.application.timeline import record_event
from intake.schemas import DossierCreate
from services.calendar import working_calendar
from services.events.schemas import (
    DossierRated,
    DossierReceived,
    DossierRefused,
    StepAssigned,
    SupplementReceived,
    SupplementRequested,
)
from services.idempotency import KeyReused
from services.identity import EVERYTHING, Principal
from services.problems import Problem
from services.vocabulary import VN_TZ, PortalStatus

CATALOGUE = load_catalogue()
CALENDAR = working_calendar()
PATTERN = "{unit}-{date:%y%m%d}-{seq:04d}"
MONDAY_9AM = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam

H30, PHU_LOC = "000.00.00.H30", "000.01.30.H30"


def principal(name: str, *roles: str, units: tuple[str, ...] = ()) -> Principal:
    return Principal(
        subject=f"sub-{name}", name=name, username=name.lower(), client_id="motcua-web", roles=frozenset(roles), units=units
    )


COUNTER = principal("Nguyễn Thị Tiếp", "counter-officer", units=(H30,))
COUNTER_B = principal("Phạm Văn Xã", "counter-officer", units=(PHU_LOC,))
COUNTER_BOTH = principal("Lý Hai Nơi", "counter-officer", units=(PHU_LOC, H30))
ADMIN = principal("Trần Quản Trị", "province-admin")
PORTAL = Principal(
    subject="sub-portal",
    name="cong-dvc-tinh",
    username="service-account-cong-dvc-tinh",
    client_id="cong-dvc-tinh",
    roles=frozenset({"portal"}),
)
LIMIT = LookupLimit(per_window=20, window_seconds=600)

BIRTH = {
    "procedure_code": "1.001193",
    "channel": 1,
    "documents": [{"code": "birth-certificate"}, {"code": "interlinked-form"}],
    "applicant": {"name": "Nguyễn Thị Lan", "citizen_id": "079190001234", "phone": "0912345678", "notify_channels": ["sms"]},
}


def dossier(**changes: Any) -> DossierCreate:
    return DossierCreate.model_validate({**BIRTH, **changes})


async def receive(
    memory: Any, body: DossierCreate | None = None, claim: Claim | None = None, by: Principal = COUNTER
) -> dict[str, Any]:
    received = await receive_dossier(memory.uow, CATALOGUE, CALENDAR, PATTERN, body or dossier(), by, claim, now=MONDAY_9AM)
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
    assert received.dossier_code == answer["code"] and received.applicant_name == "Nguyễn Thị Lan"
    # the contact and the look-up secret go to notify alone, apart from what every service reads
    assert received.applicant is None and received.lookup_secret is None
    [(dossier_id, contact)] = memory.contacts.given
    assert dossier_id == answer["id"] and contact.phone == "0912345678" and contact.lookup_secret == answer["lookup_secret"]
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
    again = await receive_dossier(memory.uow, CATALOGUE, CALENDAR, PATTERN, dossier(), COUNTER, key, now=MONDAY_9AM)

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
    form = await lifecycle.request_supplement(
        memory.uow, COUNTER, dossier_id, ["Giấy chứng sinh (bản chính)"], "Thiếu giấy chứng sinh"
    )

    assert form.status == PortalStatus.SUPPLEMENT_REQUESTED and form.items == ["Giấy chứng sinh (bản chính)"]
    assert memory.events.of(SupplementRequested)[0].requested_by == "counter"

    await lifecycle.receive_supplement(memory.uow, COUNTER, dossier_id, ["Giấy chứng sinh (bản chính)"])
    public = await get_dossier(memory.uow, COUNTER.scope, dossier_id)
    assert public.status == PortalStatus.ACCEPTED  # back where it was before the request
    assert public.supplements[0].received_items == ["Giấy chứng sinh (bản chính)"]
    assert memory.events.of(SupplementReceived)[0].items == ["Giấy chứng sinh (bản chính)"]
    assert [e.kind for e in public.timeline] == ["received", "supplement_requested", "supplement_received"]


async def test_a_command_the_status_does_not_allow_is_409_naming_the_status_and_changes_nothing(memory: Any) -> None:
    dossier_id = UUID((await receive(memory))["id"])
    events_before = len(memory.events.events)

    with pytest.raises(Problem) as conflict:
        await lifecycle.return_result(memory.uow, COUNTER, dossier_id, "counter", None)

    assert conflict.value.status == 409 and conflict.value.extensions["current_status"] == PortalStatus.ACCEPTED
    assert memory.dossiers.rows[dossier_id]["status"] == PortalStatus.ACCEPTED and len(memory.events.events) == events_before
    with pytest.raises(Problem) as missing:
        await lifecycle.withdraw_dossier(memory.uow, COUNTER, uuid4(), None)
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


async def test_the_citizen_look_up_tells_the_times_in_vietnam_time_as_well(memory: Any) -> None:
    answer = await receive(memory)  # Monday 09:00 in Vietnam
    found = await look_up(memory.uow, LIMIT, "198.51.100.8", answer["code"], answer["lookup_secret"])
    appointment = datetime.fromisoformat(answer["appointment_at"]).astimezone(VN_TZ)
    assert found.appointment_at == datetime.fromisoformat(answer["appointment_at"])  # UTC, as before
    assert found.appointment_local == appointment.isoformat(timespec="seconds") and found.appointment_local.endswith("+07:00")
    assert found.appointment_text == f"{appointment:%H:%M} ngày {appointment:%d/%m/%Y}"
    assert (found.received_local, found.received_text) == ("2026-11-23T09:00:00+07:00", "09:00 ngày 23/11/2026")
    assert (found.returned_local, found.returned_text) == (None, None)
    assert [e.at_local for e in found.timeline] == ["2026-11-23T09:00:00+07:00"]


# ---------------------------------------------------------------- who receives, who acts, who reads


def problem_fields(problem: Problem) -> set[str]:
    return {e["field"] for e in problem.extensions["errors"]}


async def test_the_receiving_officer_is_recorded_on_the_dossier_its_timeline_its_event_and_its_receipt(memory: Any) -> None:
    answer = await receive(memory, by=COUNTER_BOTH)  # no unit named: the first unit the officer serves

    assert answer["receiving_unit"] == PHU_LOC and answer["code"].startswith(PHU_LOC)
    officer = {"kind": "officer", "subject": COUNTER_BOTH.subject, "name": "Lý Hai Nơi", "unit": PHU_LOC}
    assert answer["received_by"] == officer
    row = memory.dossiers.rows[UUID(answer["id"])]
    assert (row["received_by_subject"], row["received_by_name"], row["received_by_unit"]) == (
        COUNTER_BOTH.subject,
        "Lý Hai Nơi",
        PHU_LOC,
    )
    assert memory.dossiers.entries[0]["detail"]["by"] == officer
    [envelope] = memory.events.envelopes
    assert envelope.actor is not None and envelope.actor.model_dump() == officer

    second = await receive(memory, dossier(receiving_unit=H30), by=COUNTER_BOTH)  # the officer's other unit
    assert second["received_by"]["unit"] == H30 and memory.events.envelopes[-1].actor.unit == H30
    form1 = await receipt(memory.uow, COUNTER.scope, UUID(second["id"]), "https://dvc.example", form="json")
    assert form1.received_by == "Lý Hai Nơi"


async def test_a_counter_officer_cannot_receive_for_a_unit_they_do_not_serve(memory: Any) -> None:
    with pytest.raises(Problem) as refused:
        await receive(memory, dossier(receiving_unit=H30), by=COUNTER_B)
    assert refused.value.status == 422 and problem_fields(refused.value) == {"receiving_unit"}
    assert refused.value.extensions["errors"][0]["code"] == "not_your_unit"
    assert memory.dossiers.rows == {} and memory.events.events == [] and memory.dossiers.sequences == {}

    answer = await receive(memory, dossier(receiving_unit=PHU_LOC), by=ADMIN)  # the province receives anywhere
    assert answer["receiving_unit"] == PHU_LOC and answer["received_by"]["name"] == "Trần Quản Trị"


async def test_the_portal_files_online_dossiers_only(memory: Any) -> None:
    with pytest.raises(Problem) as refused:
        await receive(memory, dossier(channel=1), by=PORTAL)
    assert refused.value.status == 422 and problem_fields(refused.value) == {"channel"}
    assert memory.dossiers.rows == {}

    online = await receive(memory, dossier(channel=2), by=PORTAL)
    assert online["channel"] == 2 and online["received_by"]["kind"] == "portal"
    assert online["receiving_unit"] == CATALOGUE.default_unit.code


async def test_an_idempotency_key_of_one_officer_replays_nothing_for_another(memory: Any) -> None:
    key = Claim("counter", ("shared-key-1",))
    await receive(memory, claim=key, by=COUNTER)
    with pytest.raises(KeyReused):  # not the first officer's dossier, nor its secret
        await receive(memory, claim=key, by=ADMIN)
    assert len(memory.dossiers.rows) == 1


async def test_an_officer_of_another_unit_finds_nothing_and_changes_nothing(memory: Any) -> None:
    dossier_id = UUID((await receive(memory, by=COUNTER))["id"])
    before = dict(memory.dossiers.rows[dossier_id])
    events_before, entries_before = len(memory.events.events), len(memory.dossiers.entries)

    commands = [
        lifecycle.request_supplement(memory.uow, COUNTER_B, dossier_id, ["x"], None),
        lifecycle.receive_supplement(memory.uow, COUNTER_B, dossier_id, ["x"]),
        lifecycle.refuse_dossier(memory.uow, COUNTER_B, dossier_id, "không"),
        lifecycle.withdraw_dossier(memory.uow, COUNTER_B, dossier_id, None),
        lifecycle.return_result(memory.uow, COUNTER_B, dossier_id, "counter", None),
        get_dossier(memory.uow, COUNTER_B.scope, dossier_id),
        receipt(memory.uow, COUNTER_B.scope, dossier_id, "https://dvc.example", form="html"),
    ]
    for command in commands:
        with pytest.raises(Problem) as hidden:
            await command
        assert hidden.value.status == 404 and hidden.value.detail == f"no dossier {dossier_id}"  # as for a missing one
    page = await search_dossiers(memory.uow, COUNTER_B.scope, SearchFilters(), limit=10, cursor=None)
    assert page.items == [] and page.counts.total == 0

    assert memory.dossiers.rows[dossier_id] == before
    assert len(memory.events.events) == events_before and len(memory.dossiers.entries) == entries_before
    assert memory.audit.reads == []  # nothing was read


async def test_each_counter_command_names_the_officer_for_the_dossiers_unit(memory: Any) -> None:
    dossier_id = UUID((await receive(memory, dossier(receiving_unit=H30), by=COUNTER))["id"])

    form2 = await lifecycle.request_supplement(memory.uow, COUNTER_BOTH, dossier_id, ["Tờ khai"], None)
    form3 = await lifecycle.refuse_dossier(memory.uow, ADMIN, dossier_id, "Hồ sơ giả mạo")

    assert form2.officer == "Lý Hai Nơi" and form3.officer == "Trần Quản Trị"
    requested, refused = memory.events.envelopes[-2:]
    assert isinstance(memory.events.events[-2], SupplementRequested) and isinstance(memory.events.events[-1], DossierRefused)
    assert requested.actor is not None and (requested.actor.name, requested.actor.unit) == ("Lý Hai Nơi", H30)
    assert refused.actor is not None and (refused.actor.name, refused.actor.unit) == ("Trần Quản Trị", H30)
    by = {e["kind"]: e["detail"]["by"]["name"] for e in memory.dossiers.entries}
    assert by == {"received": "Nguyễn Thị Tiếp", "supplement_requested": "Lý Hai Nơi", "refused": "Trần Quản Trị"}


async def test_reads_of_personal_data_are_audited_with_the_reader_one_row_per_dossier(memory: Any) -> None:
    ids = [(await receive(memory, by=COUNTER))["id"] for _ in range(3)]

    await get_dossier(memory.uow, COUNTER.scope, UUID(ids[0]))
    await receipt(memory.uow, EVERYTHING, UUID(ids[1]), "https://dvc.example", form="html")
    page = await search_dossiers(memory.uow, COUNTER.scope, SearchFilters(), limit=2, cursor=None)

    assert memory.audit.reads == [
        ("dossier", [ids[0]], {}),
        ("receipt", [ids[1]], {"form": "html"}),
        ("search", [str(i.id) for i in page.items], {}),  # the page listed, not every match
    ]
    assert len(page.items) == 2 and page.counts.total == 3


async def test_the_citizen_look_up_is_audited_as_the_citizens(memory: Any) -> None:
    answer = await receive(memory)
    await look_up(memory.uow, LIMIT, "198.51.100.9", answer["code"], answer["lookup_secret"])

    assert memory.audit.reads == [("lookup", [answer["id"]], {})]
    [reader] = memory.audit.readers
    assert reader is not None and (reader.kind, reader.subject, reader.name) == ("citizen", answer["code"], "Người nộp hồ sơ")


async def returned(memory: Any) -> dict[str, Any]:
    answer = await receive(memory)
    memory.dossiers.rows[UUID(answer["id"])]["status"] = int(PortalStatus.RESULT_READY)
    await lifecycle.return_result(memory.uow, COUNTER, UUID(answer["id"]), "counter", None)
    return answer


async def test_the_citizen_rates_with_the_code_and_the_secret_and_is_the_ratings_actor(memory: Any) -> None:
    answer = await returned(memory)
    rated = await lifecycle.rate_dossier(
        memory.uow, LIMIT, "198.51.100.10", answer["code"], answer["lookup_secret"].lower(), 4, "Nhanh"
    )

    assert rated.code == answer["code"] and rated.score == 4
    row = memory.dossiers.rows[UUID(answer["id"])]
    assert row["rating"] == 4 and row["rating_comment"] == "Nhanh"
    [event] = memory.events.of(DossierRated)
    actor = memory.events.envelopes[memory.events.events.index(event)].actor
    assert actor is not None and (actor.kind, actor.subject, actor.name) == ("citizen", answer["code"], "Người nộp hồ sơ")
    with pytest.raises(Problem) as twice:
        await lifecycle.rate_dossier(memory.uow, LIMIT, "198.51.100.10", answer["code"], answer["lookup_secret"], 1, None)
    assert twice.value.status == 409


async def test_a_rating_with_a_wrong_secret_is_404_as_an_unknown_code_changes_nothing_and_is_counted(memory: Any) -> None:
    answer = await returned(memory)
    events_before = len(memory.events.events)
    limit = LookupLimit(per_window=2, window_seconds=600)

    with pytest.raises(Problem) as wrong:
        await lifecycle.rate_dossier(memory.uow, limit, "198.51.100.11", answer["code"], "WRONG234", 1, None)
    with pytest.raises(Problem) as unknown:
        await lifecycle.rate_dossier(
            memory.uow, limit, "198.51.100.11", "000.00.00.H30-000101-0001", answer["lookup_secret"], 1, None
        )
    assert wrong.value.status == unknown.value.status == 404 and wrong.value.detail == unknown.value.detail

    assert memory.dossiers.rows[UUID(answer["id"])]["rating"] is None and len(memory.events.events) == events_before
    with pytest.raises(TooManyLookups):  # the same limit as the look-up
        await lifecycle.rate_dossier(memory.uow, limit, "198.51.100.11", answer["code"], answer["lookup_secret"], 5, None)


async def test_the_citizen_look_up_lists_what_is_missing_while_a_supplement_is_asked_and_tells_a_rating_was_given(
    memory: Any,
) -> None:
    answer = await receive(memory)
    dossier_id = UUID(answer["id"])
    await lifecycle.request_supplement(
        memory.uow, COUNTER, dossier_id, ["Giấy chứng sinh (bản chính)", "Tờ khai; có chữ ký"], None
    )
    found = await look_up(memory.uow, LIMIT, "198.51.100.12", answer["code"], answer["lookup_secret"])
    assert found.missing_items == ["Giấy chứng sinh (bản chính)", "Tờ khai; có chữ ký"]  # an item may hold a ';'
    assert found.rated is False

    await lifecycle.receive_supplement(memory.uow, COUNTER, dossier_id, ["Giấy chứng sinh (bản chính)"])
    assert (await look_up(memory.uow, LIMIT, "198.51.100.12", answer["code"], answer["lookup_secret"])).missing_items == []

    memory.dossiers.rows[dossier_id]["status"] = int(PortalStatus.RESULT_READY)
    await lifecycle.return_result(memory.uow, COUNTER, dossier_id, "counter", None)
    await lifecycle.rate_dossier(memory.uow, LIMIT, "198.51.100.12", answer["code"], answer["lookup_secret"], 5, None)
    assert (await look_up(memory.uow, LIMIT, "198.51.100.12", answer["code"], answer["lookup_secret"])).rated is True
