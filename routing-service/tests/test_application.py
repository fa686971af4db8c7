"""Routing's use cases over an in-memory repository and outbox: what agencies' officers, the
citizen (through the national portal and the notices the events trigger) and the operator see
happen, without a database or Kafka; who is recorded as acting, and what each caller's scope lets
them find (anything else is 404) with every read of a control sheet audited."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from routing.application import actions
from routing.application.actions import Signed, StepOfficer, StepRef, apply_step_result, step_officer
from routing.application.exchange import RetryPolicy, deliver_due
from routing.application.operations import resend_delivery
from routing.application.ports import ExchangeError
from routing.application.reading import InboxFilters, agency_inbox, agency_step, route_of
from routing.application.routes import close_route, fix_route, supplement_received
from routing.domain.exchange import Breakers
from routing.schemas import StepResultIn
from services.calendar import working_calendar
from services.events import Envelope, Event
from services.events.envelope import Actor
from services.events.schemas import (
    ApplicantContact,
    DossierReceived,
    DossierRefused,
    DossierWithdrawn,
    RouteCompleted,
    RouteStep,
    StepAccepted,
    StepAssigned,
    StepReturned,
    SupplementReceived,
    SupplementRequested,
)
from services.identity import Principal, Scope
from services.problems import Problem
from services.testing import MemoryAudit

CALENDAR = working_calendar()
MONDAY_9AM = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam

COMMUNE = RouteStep(step_id="civil-status", agency_code="UBND-XA", agency_name="UBND xã (hộ tịch)", budget_hours=8)
POLICE = RouteStep(
    step_id="residence", agency_code="CA-XA", agency_name="Công an xã (cư trú)", budget_hours=16, after=["civil-status"]
)
INSURER = RouteStep(
    step_id="health-insurance", agency_code="BHXH", agency_name="Bảo hiểm xã hội", budget_hours=16, after=["civil-status"]
)
BIRTH_GROUP = [COMMUNE, POLICE, INSURER]  # khai sinh, then thường trú and BHYT in parallel


def received(route: list[RouteStep]) -> Envelope:
    event = DossierReceived(
        dossier_code="000.00.00.H30-261123-0001",
        procedure_code="1.001193",
        procedure_name="Liên thông đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
        field_code="HT",
        catalogue_version="2026.1",
        receiving_unit="000.00.00.H30",
        channel=1,
        received_at=MONDAY_9AM,
        clock_starts_at=MONDAY_9AM,
        appointment_at=MONDAY_9AM + timedelta(days=3),
        budget_hours=24,
        route=route,
        applicant=ApplicantContact(name="Nguyễn Thị Lan", phone="0912345678", notify_channels=["sms"]),
    )
    return event.envelope(dossier_id=str(uuid4()), producer="intake").model_copy(update={"occurred_at": MONDAY_9AM})


async def consume(memory: Any, handler: Any, envelope: Envelope) -> None:
    """As routing's consumer applies an event: in one transaction, with the unit bound to it."""
    async with memory.uow() as work:
        await handler(work, envelope)


async def receive(memory: Any, route: list[RouteStep] = BIRTH_GROUP) -> UUID:
    envelope = received(route)
    await consume(memory, fix_route, envelope)
    return UUID(envelope.dossier_id)


OPERATOR = Principal(
    subject="sub-operator", name="Lê Vận Hành", username="t-operator", client_id="motcua-cli", roles=frozenset({"operator"})
)


def officer(agency: str, name: str = "Cán bộ A") -> StepOfficer:
    """An officer of one agency, signed in."""
    return StepOfficer(name=name, subject=f"sub-{name}", scope=Scope(agencies=(agency,)))


def agency(code: str) -> Scope:
    return Scope(agencies=(code,))


def from_intake(event: Event, dossier_id: UUID) -> Envelope:
    return event.envelope(dossier_id=str(dossier_id), producer="intake")


def states(memory: Any, dossier_id: UUID) -> dict[str, str]:
    return {step_id: row["state"] for (d, step_id), row in memory.routes.route.items() if d == dossier_id}


def portal_statuses(memory: Any, dossier_id: UUID) -> list[int]:
    return [p["status_code"] for p in memory.routes.queues["portal_pushes"] if p["dossier_id"] == dossier_id]


async def finish(memory: Any, agency: str, dossier_id: UUID, step_id: str, *documents: str) -> None:
    ref, by = StepRef(dossier_id, step_id), officer(agency)
    await actions.accept_step(memory.uow, CALENDAR, ref, by, note=None)
    await actions.complete_step(memory.uow, CALENDAR, ref, by, result_documents=list(documents), note=None)


def sheet(memory: Any, action: str) -> list[Mapping[str, Any]]:
    return [h for h in memory.routes.sheet if h["action"] == action]


async def test_a_received_dossier_gets_its_route_and_its_first_step_goes_to_the_commune(memory: Any) -> None:
    dossier_id = await receive(memory)

    assert states(memory, dossier_id) == {"civil-status": "assigned", "residence": "waiting", "health-insurance": "waiting"}
    [assigned] = memory.events.of(StepAssigned)
    assert (assigned.step_id, assigned.agency_code, assigned.budget_hours) == ("civil-status", "UBND-XA", 8)
    [handover] = memory.routes.sheet
    assert (handover["from_party"], handover["to_party"]) == ("Bộ phận một cửa 000.00.00.H30", "UBND xã (hộ tịch)")
    assert portal_statuses(memory, dossier_id) == [2, 4]  # accepted, then being handled
    assert memory.routes.queues["deliveries"] == []  # the commune works in our API, not behind the LGSP

    inbox = await agency_inbox(memory.uow, CALENDAR, agency("UBND-XA"), InboxFilters(), page=1, page_size=50)
    [mine] = inbox.items
    # one working day (8 hours) from Monday 09:00 in Vietnam
    assert mine.step_id == "civil-status" and mine.due_at == CALENDAR.add_working_hours(CALENDAR.clock_start(MONDAY_9AM), 8)


async def test_completing_the_last_step_completes_the_route_with_every_agency_s_result_documents(memory: Any) -> None:
    dossier_id = await receive(memory)
    await finish(memory, "UBND-XA", dossier_id, "civil-status", "doc://khai-sinh/1")

    # Both branches start together, and the police's own system gets its step through the LGSP.
    assert states(memory, dossier_id) == {"civil-status": "done", "residence": "assigned", "health-insurance": "assigned"}
    [delivery] = memory.routes.queues["deliveries"]
    assert delivery["step_id"] == "residence" and delivery["endpoint"] == "http://lgsp.test/ca-xa/steps"

    await finish(memory, "CA-XA", dossier_id, "residence", "doc://cu-tru/1")
    assert memory.events.of(RouteCompleted) == []
    await finish(memory, "BHXH", dossier_id, "health-insurance", "doc://bhyt/1")

    [completed] = memory.events.of(RouteCompleted)
    assert sorted(completed.result_documents) == ["doc://bhyt/1", "doc://cu-tru/1", "doc://khai-sinh/1"]
    assert portal_statuses(memory, dossier_id) == [2, 4, 9]
    ready = memory.routes.queues["portal_pushes"][-1]["payload"]
    assert sorted(d["DuongDanTepTinKetQua"] for d in ready["DanhSachGiayToKetQua"]) == sorted(completed.result_documents)


async def test_a_parallel_branch_finishing_first_hands_nothing_on_until_its_sibling_is_done(memory: Any) -> None:
    joined = RouteStep(
        step_id="certificate",
        agency_code="UBND-XA",
        agency_name="UBND xã (hộ tịch)",
        budget_hours=4,
        after=["residence", "health-insurance"],
    )
    dossier_id = await receive(memory, [COMMUNE, POLICE, INSURER, joined])
    await finish(memory, "UBND-XA", dossier_id, "civil-status")
    assigned_before = len(memory.events.of(StepAssigned))

    await finish(memory, "CA-XA", dossier_id, "residence")
    assert states(memory, dossier_id)["certificate"] == "waiting"
    assert len(memory.events.of(StepAssigned)) == assigned_before

    await finish(memory, "BHXH", dossier_id, "health-insurance")
    assert states(memory, dossier_id)["certificate"] == "assigned"
    assert memory.events.of(StepAssigned)[-1].step_id == "certificate" and memory.events.of(RouteCompleted) == []


async def test_another_agency_s_step_is_not_found_changes_nothing_and_is_audited(memory: Any) -> None:
    dossier_id = await receive(memory)
    before = (dict(memory.routes.route), len(memory.events.events), len(memory.routes.sheet))

    with pytest.raises(Problem) as refused:
        await actions.complete_step(
            memory.uow,
            CALENDAR,
            StepRef(dossier_id, "civil-status"),
            officer("BHXH", "Đỗ Văn Bảo"),
            result_documents=[],
            note=None,
        )

    assert refused.value.status == 404 and refused.value.type == "not-found"
    assert (dict(memory.routes.route), len(memory.events.events), len(memory.routes.sheet)) == before
    assert memory.routes.route[(dossier_id, "civil-status")]["state"] == "assigned"
    probe = memory.routes.log[-1]
    assert (probe["kind"], probe["actor"], probe["step_id"], probe["detail"]["action"], probe["detail"]["agencies"]) == (
        "step.action_refused",
        "Đỗ Văn Bảo",
        "civil-status",
        "complete",
        ["BHXH"],
    )


async def test_an_action_the_step_s_state_does_not_allow_is_409_naming_the_state(memory: Any) -> None:
    dossier_id = await receive(memory)
    events_before = len(memory.events.events)

    with pytest.raises(Problem) as conflict:
        await actions.accept_step(memory.uow, CALENDAR, StepRef(dossier_id, "residence"), officer("CA-XA"), note=None)

    assert conflict.value.status == 409 and conflict.value.extensions["state"] == "waiting"
    assert states(memory, dossier_id)["residence"] == "waiting" and len(memory.events.events) == events_before


async def test_a_return_reopens_the_previous_step_at_its_agency(memory: Any) -> None:
    dossier_id = await receive(memory)
    await finish(memory, "UBND-XA", dossier_id, "civil-status", "doc://khai-sinh/1")

    returned = await actions.return_step(
        memory.uow,
        CALENDAR,
        StepRef(dossier_id, "residence"),
        officer("CA-XA", "Đại úy Phạm Minh"),
        reason="Trích lục sai năm sinh của mẹ",
        to_step_id=None,
    )

    assert returned.state == "waiting"
    assert states(memory, dossier_id) == {"civil-status": "assigned", "residence": "waiting", "health-insurance": "assigned"}
    assert memory.routes.route[(dossier_id, "civil-status")]["completed_at"] is None
    [back] = sheet(memory, "return")
    assert (back["step_id"], back["from_party"], back["to_party"], back["note"]) == (
        "civil-status",
        "Công an xã (cư trú)",
        "UBND xã (hộ tịch)",
        "Trích lục sai năm sinh của mẹ",
    )
    [event] = memory.events.of(StepReturned)
    assert (event.step_id, event.to_step_id) == ("residence", "civil-status")
    inbox = await agency_inbox(memory.uow, CALENDAR, agency("UBND-XA"), InboxFilters(), page=1, page_size=50)
    assert [i.step_id for i in inbox.items] == ["civil-status"]  # back in the commune's inbox


async def test_a_refusal_cancels_the_open_steps_and_tells_the_citizen_why(memory: Any) -> None:
    dossier_id = await receive(memory)
    await finish(memory, "UBND-XA", dossier_id, "civil-status")
    reason = "Không đủ điều kiện đăng ký thường trú (Điều 20 Luật Cư trú 2020)"

    await actions.refuse_dossier(memory.uow, CALENDAR, StepRef(dossier_id, "residence"), officer("CA-XA"), reason=reason)

    assert states(memory, dossier_id) == {"civil-status": "done", "residence": "refused", "health-insurance": "cancelled"}
    [refusal] = memory.events.of(DossierRefused)
    assert (refusal.refused_by, refusal.reason) == ("CA-XA", reason)
    assert portal_statuses(memory, dossier_id)[-1] == 3
    with pytest.raises(Problem) as late:
        await actions.accept_step(memory.uow, CALENDAR, StepRef(dossier_id, "health-insurance"), officer("BHXH"), note=None)
    assert late.value.status == 409 and late.value.extensions["state"] == "cancelled"


async def test_a_supplement_pauses_the_dossier_until_the_citizen_hands_the_items_in(memory: Any) -> None:
    dossier_id = await receive(memory)
    ref, by = StepRef(dossier_id, "civil-status"), officer("UBND-XA", "Lê Thị Mai")
    await actions.accept_step(memory.uow, CALENDAR, ref, by, note=None)

    asked = await actions.request_supplement(
        memory.uow, CALENDAR, ref, by, items=["Bản sao giấy chứng nhận kết hôn"], reason=None
    )

    assert asked.state == "supplement" and portal_statuses(memory, dossier_id)[-1] == 5
    [request] = memory.events.of(SupplementRequested)
    assert (request.requested_by, request.step_id, request.items) == (
        "UBND-XA",
        "civil-status",
        ["Bản sao giấy chứng nhận kết hôn"],
    )

    handed_in = SupplementReceived(received_at=datetime.now(UTC), items=["Bản sao giấy chứng nhận kết hôn"])
    counter = Actor(kind="officer", subject="sub-tiep", name="Nguyễn Thị Tiếp", unit="000.00.00.H30")
    await consume(memory, supplement_received, from_intake(handed_in, dossier_id).model_copy(update={"actor": counter}))
    assert states(memory, dossier_id)["civil-status"] == "accepted" and portal_statuses(memory, dossier_id)[-1] == 4
    [line] = sheet(memory, "supplement_received")  # the counter officer who took the items in hands them on
    assert (line["from_party"], line["to_party"], line["actor"]) == ("Bộ phận một cửa", "UBND xã (hộ tịch)", "Nguyễn Thị Tiếp")


async def test_a_withdrawal_stops_every_open_step_and_a_misrouted_step_can_no_longer_move(memory: Any) -> None:
    dossier_id = await receive(memory)
    await finish(memory, "UBND-XA", dossier_id, "civil-status")

    await consume(memory, close_route, from_intake(DossierWithdrawn(withdrawn_at=datetime.now(UTC)), dossier_id))

    assert states(memory, dossier_id) == {"civil-status": "done", "residence": "cancelled", "health-insurance": "cancelled"}
    assert portal_statuses(memory, dossier_id)[-1] == 7
    with pytest.raises(Problem) as late:
        await actions.transfer_step(
            memory.uow,
            CALENDAR,
            StepRef(dossier_id, "health-insurance"),
            officer("BHXH"),
            to_agency_code="BHXH-TINH",
            reason="y",
        )
    assert late.value.status == 409


@pytest.mark.parametrize(
    ("closing", "status"),
    [
        (DossierWithdrawn(withdrawn_at=MONDAY_9AM + timedelta(hours=1)), 7),
        (DossierRefused(refused_by="counter", reason="Hồ sơ giả mạo", refused_at=MONDAY_9AM + timedelta(hours=1)), 3),
    ],
)
async def test_a_withdrawal_or_refusal_read_before_the_route_stops_its_steps_once_the_route_comes(
    memory: Any, closing: Event, status: int
) -> None:
    envelope = received(BIRTH_GROUP)
    dossier_id = UUID(envelope.dossier_id)

    await consume(memory, close_route, from_intake(closing, dossier_id))  # read ahead of the receipt
    assert states(memory, dossier_id) == {}
    await consume(memory, fix_route, envelope)

    assert states(memory, dossier_id) == {"civil-status": "cancelled", "residence": "cancelled", "health-insurance": "cancelled"}
    assert portal_statuses(memory, dossier_id)[-1] == status
    inbox = await agency_inbox(memory.uow, CALENDAR, agency("UBND-XA"), InboxFilters(), page=1, page_size=50)
    assert inbox.items == []  # nothing left for the commune to handle
    assert memory.parking.parked.get(str(dossier_id), []) == []


async def test_a_misrouted_step_moves_to_the_competent_agency_and_an_unknown_one_is_refused(memory: Any) -> None:
    dossier_id = await receive(memory)
    await finish(memory, "UBND-XA", dossier_id, "civil-status")
    ref, by = StepRef(dossier_id, "health-insurance"), officer("BHXH")

    with pytest.raises(Problem) as unknown:
        await actions.transfer_step(memory.uow, CALENDAR, ref, by, to_agency_code="NOPE", reason="y")
    assert unknown.value.status == 422 and unknown.value.extensions["errors"][0]["field"] == "to_agency_code"

    moved = await actions.transfer_step(
        memory.uow, CALENDAR, ref, by, to_agency_code="BHXH-TINH", reason="Không thuộc thẩm quyền cấp xã"
    )
    assert (moved.agency_code, moved.state) == ("BHXH-TINH", "assigned")
    inbox = await agency_inbox(memory.uow, CALENDAR, agency("BHXH-TINH"), InboxFilters(), page=1, page_size=50)
    assert [i.step_id for i in inbox.items] == ["health-insurance"]
    with pytest.raises(Problem) as gone:
        await actions.accept_step(memory.uow, CALENDAR, ref, by, note=None)
    assert gone.value.status == 404


def step_result(dossier_id: UUID, action: str, **fields: Any) -> StepResultIn:
    return StepResultIn.model_validate(
        {"request_id": "ca-1", "dossier_id": str(dossier_id), "step_id": "residence", "action": action, "officer": "x", **fields}
    )


async def test_a_signed_result_that_could_not_be_applied_is_applied_when_retried_with_its_nonce(memory: Any) -> None:
    dossier_id = await receive(memory)
    signed = Signed("ca-xa", "nonce-0001", 120)
    result = step_result(dossier_id, "complete", result_documents=["doc://cu-tru/1"])

    with pytest.raises(Problem) as too_early:  # the commune has not finished: not the police's turn yet
        await apply_step_result(memory.uow, CALENDAR, "CA-XA", signed, result)
    assert too_early.value.status == 409 and memory.routes.nonces == {}

    await finish(memory, "UBND-XA", dossier_id, "civil-status")
    answer = await apply_step_result(memory.uow, CALENDAR, "CA-XA", signed, result)
    assert answer.request_id == "ca-1" and answer.step.state == "done" and answer.step.result_documents == ["doc://cu-tru/1"]

    with pytest.raises(Problem) as replayed:
        await apply_step_result(memory.uow, CALENDAR, "CA-XA", signed, result)
    assert replayed.value.status == 409 and replayed.value.type == "replayed-request"
    inbound = [(e["kind"], e["detail"].get("reason")) for e in memory.routes.log if e["kind"].startswith("lgsp.")]
    assert inbound == [
        ("lgsp.inbound_refused", "cannot complete a step that is waiting"),
        ("lgsp.inbound", None),
        ("lgsp.inbound_refused", "this nonce was already used"),
    ]


async def test_a_signed_refusal_without_its_reason_is_refused_naming_the_field(memory: Any) -> None:
    dossier_id = await receive(memory)
    with pytest.raises(Problem) as invalid:
        await apply_step_result(
            memory.uow, CALENDAR, "CA-XA", Signed("ca-xa", "nonce-0002", 80), step_result(dossier_id, "refuse")
        )
    assert invalid.value.status == 422 and invalid.value.extensions["errors"][0]["field"] == "reason"
    assert memory.routes.nonces == {}


class AgencySystem:
    """An agency's own system behind the LGSP, down until told otherwise."""

    def __init__(self) -> None:
        self.up = False
        self.received: list[Mapping[str, Any]] = []

    async def deliver(self, endpoint: str, payload: Mapping[str, Any], request_id: str) -> dict[str, Any]:
        if not self.up:
            raise ExchangeError("HTTP 503: unavailable")
        self.received.append(payload)
        return {"request_id": request_id, "status": 1}


async def test_a_step_the_police_s_system_cannot_take_is_retried_then_left_for_the_operator_to_resend(memory: Any) -> None:
    dossier_id = await receive(memory)
    await finish(memory, "UBND-XA", dossier_id, "civil-status")
    system, breakers = AgencySystem(), Breakers(threshold=10, reset_after=1)
    policy = RetryPolicy(max_attempts=2, backoff_base_seconds=0, backoff_cap_seconds=0, lease_seconds=30, breaker_reset_seconds=1)

    for _ in range(2):  # no delay between attempts with a zero backoff
        [attempt] = await deliver_due(memory.uow, system, breakers, policy)
        assert attempt.outcome == "failed"
    [delivery] = memory.routes.queues["deliveries"]
    assert (delivery["state"], delivery["attempts"], delivery["last_error"]) == ("failed", 2, "HTTP 503: unavailable")
    assert await deliver_due(memory.uow, system, breakers, policy) == []  # given up: only the operator sends it again

    system.up = True
    resent = await resend_delivery(memory.uow, delivery["id"], OPERATOR)
    assert (resent.state, resent.attempts) == ("pending", 0)
    [attempt] = await deliver_due(memory.uow, system, breakers, policy)
    assert attempt.outcome == "delivered" and [p["step_id"] for p in system.received] == ["residence"]
    assert [(e["kind"], e["actor"]) for e in memory.routes.log if e["kind"].startswith(("lgsp.", "operator."))] == [
        ("lgsp.delivery_failed", "routing-service"),
        ("lgsp.delivery_failed", "routing-service"),
        ("operator.resend", "Lê Vận Hành"),
        ("lgsp.delivered", "routing-service"),
    ]
    with pytest.raises(Problem) as again:
        await resend_delivery(memory.uow, delivery["id"], OPERATOR)
    assert again.value.status == 409


# ---------------------------------------------------------------- who acts, who sees

H30, PHU_LOC = "000.00.00.H30", "000.01.30.H30"


def principal(
    name: str, *roles: str, units: tuple[str, ...] = (), agencies: tuple[str, ...] = (), client_id: str = "motcua-cli"
) -> Principal:
    return Principal(
        subject=f"sub-{name}",
        name=name,
        username=name,
        client_id=client_id,
        roles=frozenset(roles),
        units=units,
        agencies=agencies,
    )


MAI = principal("Lê Thị Mai", "specialist", agencies=("UBND-XA",))
UBND_SYSTEM = principal("ubnd-xa", "agency-system", agencies=("UBND-XA",), client_id="ubnd-xa")
ADMIN = principal("Trần Quản Trị", "province-admin")


def reads(memory: Any) -> list[tuple[str, list[str], dict[str, object]]]:
    audit = memory.uow.unit.audit
    assert isinstance(audit, MemoryAudit)
    return audit.reads


def test_a_signed_in_officer_acts_under_their_own_name_and_subject_on_their_agencies_steps(memory: Any) -> None:
    officer = step_officer(MAI, memory.uow.unit.partners.agencies)
    assert (officer.name, officer.subject, officer.scope) == ("Lê Thị Mai", "sub-Lê Thị Mai", Scope(agencies=("UBND-XA",)))


def test_an_agency_s_system_is_shown_by_its_agency_s_name(memory: Any) -> None:
    agencies = memory.uow.unit.partners.agencies
    assert step_officer(UBND_SYSTEM, agencies).name == "UBND xã (hộ tịch)"
    # a client routing does not list by id is still named by the agency its token carries
    other_client = principal("bhxh-app", "agency-system", agencies=("BHXH",), client_id="bhxh-app")
    assert step_officer(other_client, agencies).name == "Bảo hiểm xã hội"


def test_the_province_administrator_may_act_on_every_step(memory: Any) -> None:
    assert step_officer(ADMIN, memory.uow.unit.partners.agencies).scope.everything


async def test_the_officer_of_an_action_is_the_caller_on_the_step_the_sheet_the_event_and_the_log(memory: Any) -> None:
    dossier_id = await receive(memory)

    await actions.accept_step(
        memory.uow, CALENDAR, StepRef(dossier_id, "civil-status"), step_officer(MAI, memory.uow.unit.partners.agencies), note=None
    )

    step = memory.routes.route[(dossier_id, "civil-status")]
    assert (step["officer"], step["officer_subject"]) == ("Lê Thị Mai", "sub-Lê Thị Mai")
    line = memory.routes.sheet[-1]
    assert (line["action"], line["actor"], line["actor_subject"], line["to_party"]) == (
        "accept",
        "Lê Thị Mai",
        "sub-Lê Thị Mai",
        "Lê Thị Mai",
    )
    [accepted] = memory.events.of(StepAccepted)
    assert accepted.officer == "Lê Thị Mai"
    entry = memory.routes.log[-1]
    assert (entry["kind"], entry["actor"], entry["detail"]["subject"], entry["detail"]["agency"]) == (
        "officer.accept",
        "Lê Thị Mai",
        "sub-Lê Thị Mai",
        "UBND-XA",
    )


async def test_an_officer_of_several_agencies_finds_the_steps_of_each_and_may_narrow_to_one(memory: Any) -> None:
    dossier_id = await receive(memory)
    await actions.accept_step(
        memory.uow, CALENDAR, StepRef(dossier_id, "civil-status"), step_officer(MAI, memory.uow.unit.partners.agencies), note=None
    )
    await actions.complete_step(
        memory.uow,
        CALENDAR,
        StepRef(dossier_id, "civil-status"),
        step_officer(MAI, memory.uow.unit.partners.agencies),
        result_documents=[],
        note=None,
    )
    both = Scope(agencies=("CA-XA", "BHXH"))

    everything = await agency_inbox(memory.uow, CALENDAR, both, InboxFilters(), page=1, page_size=50)
    assert sorted(i.step_id for i in everything.items) == ["health-insurance", "residence"]
    one = await agency_inbox(memory.uow, CALENDAR, both, InboxFilters(agency="BHXH"), page=1, page_size=50)
    assert [i.step_id for i in one.items] == ["health-insurance"]
    with pytest.raises(Problem) as not_theirs:
        await agency_inbox(memory.uow, CALENDAR, both, InboxFilters(agency="UBND-XA"), page=1, page_size=50)
    assert not_theirs.value.status == 404
    assert (await agency_step(memory.uow, CALENDAR, both, dossier_id, "residence")).agency_code == "CA-XA"
    with pytest.raises(Problem) as other:
        await agency_step(memory.uow, CALENDAR, both, dossier_id, "civil-status")
    assert other.value.status == 404


@pytest.mark.parametrize(
    ("scope", "sees"),
    [
        (Scope(units=(H30,)), True),  # the receiving unit's counter or leader
        (Scope(units=(PHU_LOC,)), False),  # another unit's
        (Scope(agencies=("BHXH",)), True),  # an agency on the route
        (Scope(agencies=("STP",)), False),  # an agency that is not
        (Scope(everything=True), True),
    ],
)
async def test_a_control_sheet_is_read_by_the_receiving_unit_and_the_agencies_on_the_route_only(
    memory: Any, scope: Scope, sees: bool
) -> None:
    dossier_id = await receive(memory)  # received at H30, routed through UBND-XA, CA-XA and BHXH

    if sees:
        route = await route_of(memory.uow, scope, dossier_id)
        assert route.receiving_unit == H30 and [s.step_id for s in route.steps] == [
            "civil-status",
            "residence",
            "health-insurance",
        ]
        assert reads(memory) == [("route", [str(dossier_id)], {})]
    else:
        with pytest.raises(Problem) as hidden:
            await route_of(memory.uow, scope, dossier_id)
        assert hidden.value.status == 404 and reads(memory) == []


async def test_the_control_sheet_names_the_officer_who_handed_the_dossier_on(memory: Any) -> None:
    tiep = Actor(kind="officer", subject="sub-tiep", name="Nguyễn Thị Tiếp", unit=H30)
    envelope = received(BIRTH_GROUP).model_copy(update={"actor": tiep})  # received at the counter by Nguyễn Thị Tiếp
    await consume(memory, fix_route, envelope)
    dossier_id = UUID(envelope.dossier_id)
    [first] = sheet(memory, "assign")
    assert (first["step_id"], first["actor"], first["actor_subject"]) == ("civil-status", "Nguyễn Thị Tiếp", "sub-tiep")

    await finish(memory, "UBND-XA", dossier_id, "civil-status")  # by Cán bộ A, who hands the dossier on by completing
    handed_on = {(h["step_id"], h["actor"], h["actor_subject"]) for h in sheet(memory, "assign")[1:]}
    assert handed_on == {("residence", "Cán bộ A", "sub-Cán bộ A"), ("health-insurance", "Cán bộ A", "sub-Cán bộ A")}

    online = received(BIRTH_GROUP).model_copy(update={"actor": Actor(kind="portal", subject="p", name="cong-dvc-tinh")})
    await consume(memory, fix_route, online)
    assert sheet(memory, "assign")[-1]["actor"] == "routing-service"  # no officer handed an online dossier on
