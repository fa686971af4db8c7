"""Notify's use cases over an in-memory repository, outbox and parking, and a scripted channel: what
the citizen and the agency's staff receive (or do not), without a database, Kafka or a gateway."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from prometheus_client import REGISTRY

from notify.adapters.messages import Templates
from notify.application import dispatching
from notify.application.delivery import apply_delivery_receipt, resend_notice
from notify.application.dispatching import dispatch_once
from notify.application.notices import alert_staff, notify_citizen, notify_supplement_request
from notify.application.ports import Outcome
from notify.application.reading import delivery_log
from notify.domain.quiet_hours import QuietHours
from services.events import Envelope, Event
from services.events.schemas import (
    ApplicantContact,
    DeadlineOverdue,
    DossierReceived,
    FeeRequested,
    NoticeDelivered,
    NoticeFailed,
    NoticeSent,
    RouteCompleted,
    SupplementRequested,
)
from services.identity import Scope
from services.problems import Problem
from services.testing import MemoryAudit
from services.vocabulary import VN_TZ

from .conftest import MemoryNotify, receive

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam
CODE = "000.00.00.H30-261123-0001"


def received(dossier_id: str, secret: str | None = None, **applicant: Any) -> Envelope:
    event = DossierReceived(
        dossier_code=CODE,
        procedure_code="1.001193",
        procedure_name="Đăng ký khai sinh",
        catalogue_version="test",
        receiving_unit="000.00.00.H30",
        channel=2,
        received_at=NOW,
        clock_starts_at=NOW,
        appointment_at=NOW + timedelta(days=2, hours=8),
        budget_hours=16,
        route=[],
        applicant=ApplicantContact(**{"name": "Nguyễn Thị Lan", "phone": "0912345678", "notify_channels": ["sms"], **applicant}),
        lookup_secret=secret,
    )
    return event.envelope(dossier_id=dossier_id, producer="intake")


def from_(producer: str, event: Event, dossier_id: str) -> Envelope:
    return event.envelope(dossier_id=dossier_id, producer=producer)


async def dispatch(memory: MemoryNotify, **quiet: QuietHours) -> int:
    return await dispatch_once(memory.uow, memory.outlets(quiet), batch=20, lease_seconds=60, retries=memory.retries)


async def test_a_receipt_reaches_the_citizen_on_each_channel_chosen_with_form_1_by_email(memory: MemoryNotify) -> None:
    dossier_id = str(uuid4())
    await receive(memory, received(dossier_id, email="lan@example.vn", notify_channels=["sms", "email"]))

    sms, email = sorted(memory.notices.of(dossier_id), key=lambda n: n["channel"], reverse=True)
    assert (sms["channel"], sms["recipient_masked"], sms["status"]) == ("sms", "091****678", "pending")
    assert "hen tra KQ 17:00 25/11/2026" in sms["body"] and sms["body"].isascii()
    assert email["subject"] == f"Giấy tiếp nhận hồ sơ {CODE} và hẹn trả kết quả"
    assert email["attachment_name"] == f"mau-01-giay-tiep-nhan-hen-tra-{CODE}.html"

    assert await dispatch(memory) == 2
    assert [n.recipient for n in memory.channel.sent] == ["0912345678", "lan@example.vn"]
    assert {n["status"] for n in memory.notices.of(dossier_id)} == {"sent"}
    assert len(memory.events.of(NoticeSent)) == 2


CONSOLE_LINK = "http://127.0.0.1:8005/tra-cuu?ma={code}&ms={secret}"  # what the web console serves
SMS_OF_RECEIPT = {
    "vi": f"Da nhan ho so {CODE}, hen KQ 17:00 25/11/2026, ma tra cuu 7KQ2MZ4P. Tra cuu: http://127.0.0.1:8005/tra-cuu?ma={CODE}",
    "en": f"Dossier {CODE} received, due 17:00, 25 Nov 2026, secret 7KQ2MZ4P. Track: http://127.0.0.1:8005/tra-cuu?ma={CODE}",
}


@pytest.mark.parametrize("language", ["vi", "en"])
async def test_the_notice_of_receipt_gives_the_look_up_link_with_the_code_and_the_secret_and_no_later_notice_does(
    memory: MemoryNotify, language: str
) -> None:
    drafting = replace(memory.drafting, lookup_url=CONSOLE_LINK)
    dossier_id = str(uuid4())
    contact = {"email": "lan@example.vn", "notify_channels": ["sms", "email"], "language": language}
    await receive(memory, received(dossier_id, secret="7KQ2MZ4P", **contact), drafting)
    await notify_citizen(memory.work, drafting, from_("routing", RouteCompleted(completed_at=NOW), dossier_id))

    link = f"http://127.0.0.1:8005/tra-cuu?ma={CODE}&ms=7KQ2MZ4P"
    receipt = {n["channel"]: n for n in memory.notices.of(dossier_id) if n["trigger"] == "dossier.received"}
    email = receipt["email"]
    assert link in email["body"] and "7KQ2MZ4P" in email["body"].replace(link, "")  # the secret said, too
    assert f'href="{link.replace("&", "&amp;")}"' in email["html_body"]
    assert link.replace("&", "&amp;") in email["attachment"] and "Mã tra cứu: <b>7KQ2MZ4P</b>" in email["attachment"]
    # the gateway refuses `&`: the SMS writes the secret out beside the link to the code
    assert receipt["sms"]["body"] == SMS_OF_RECEIPT[language]

    later = {n["channel"]: n for n in memory.notices.of(dossier_id) if n["trigger"] == "routing.route_completed"}
    assert f"http://127.0.0.1:8005/tra-cuu?ma={CODE}" in later["email"]["body"]
    assert all("7KQ2MZ4P" not in n["body"] + n["html_body"] for n in later.values() if n["html_body"])
    assert "7KQ2MZ4P" not in later["sms"]["body"] and "7KQ2MZ4P" not in repr(memory.notices.contacts)  # kept nowhere


async def test_a_gateway_that_takes_every_character_gets_the_link_with_the_secret_in_the_receipts_sms(
    memory: MemoryNotify,
) -> None:
    drafting = replace(
        memory.drafting,
        composer=Templates(sms_forbidden="%#"),
        lookup_url=CONSOLE_LINK,
    )
    dossier_id = str(uuid4())
    await receive(memory, received(dossier_id, secret="7KQ2MZ4P"), drafting)
    (sms,) = memory.notices.of(dossier_id)
    assert sms["body"].endswith(f"Tra cuu: http://127.0.0.1:8005/tra-cuu?ma={CODE}&ms=7KQ2MZ4P")


async def test_a_non_essential_notice_to_a_citizen_who_opted_out_is_recorded_as_skipped_and_never_sent(
    memory: MemoryNotify,
) -> None:
    dossier_id = str(uuid4())
    await receive(memory, received(dossier_id, opt_out_non_essential=True))
    fee = FeeRequested(step_id="tax", agency_code="THUE", amount_vnd=50000, description="Phí", requested_at=NOW)
    await notify_citizen(memory.work, memory.drafting, from_("routing", fee, dossier_id))
    await notify_citizen(memory.work, memory.drafting, from_("routing", RouteCompleted(completed_at=NOW), dossier_id))

    by_trigger = {n["trigger"]: n for n in memory.notices.of(dossier_id)}
    assert by_trigger["routing.fee_requested"]["status"] == "skipped"
    assert by_trigger["routing.fee_requested"]["last_error"] == "the citizen opted out of non-essential notices"
    assert by_trigger["routing.route_completed"]["status"] == "pending"  # the law requires it: opting out does not stop it

    await dispatch(memory)
    assert len(memory.channel.sent) == 2 and not any("50.000" in n.body for n in memory.channel.sent)
    assert by_trigger["routing.fee_requested"]["status"] == "skipped"


async def test_an_agencys_supplement_request_reaches_the_citizen_once_not_again_through_intakes_echo(
    memory: MemoryNotify,
) -> None:
    dossier_id = str(uuid4())
    await receive(memory, received(dossier_id))
    agency = SupplementRequested(requested_by="CA-XA", step_id="residence", items=["Giấy xác nhận cư trú"], requested_at=NOW)
    counter = SupplementRequested(requested_by="counter", items=["Bản sao giấy chứng sinh"], requested_at=NOW)

    for producer, event in (("routing", agency), ("intake", agency), ("intake", counter), ("routing", counter)):
        await notify_supplement_request(memory.work, memory.drafting, from_(producer, event, dossier_id))

    supplements = [n for n in memory.notices.of(dossier_id) if n["trigger"] == "dossier.supplement_requested"]
    assert len(supplements) == 2
    assert "Giay xac nhan cu tru" in supplements[0]["body"] and "Ban sao giay chung sinh" in supplements[1]["body"]


async def test_an_event_read_before_the_receipt_waits_and_its_notice_is_queued_when_the_receipt_comes(
    memory: MemoryNotify, monkeypatch: pytest.MonkeyPatch
) -> None:
    dossier_id = str(uuid4())
    looked_under_lock: list[bool] = []
    look_up = memory.notices.contact

    async def contact(dossier: UUID) -> Any:
        looked_under_lock.append(str(dossier) in memory.parking.held)
        return await look_up(dossier)

    monkeypatch.setattr(memory.notices, "contact", contact)
    ready = from_("routing", RouteCompleted(completed_at=NOW), dossier_id)
    await notify_citizen(memory.work, memory.drafting, ready)

    assert memory.notices.of(dossier_id) == [] and memory.parking.parked[dossier_id] == [ready]
    assert looked_under_lock == [True]  # the contact was looked for under the dossier's lock, then the event parked

    await receive(memory, received(dossier_id))

    assert [n["trigger"] for n in memory.notices.of(dossier_id)] == ["dossier.received", "routing.route_completed"]
    assert memory.parking.parked == {}
    assert "da co ket qua" in memory.notices.of(dossier_id)[1]["body"]


async def test_a_transient_failure_is_sent_again_later_and_a_rejection_fails_for_good_with_notify_notice_failed(
    memory: MemoryNotify,
) -> None:
    flaky, wrong = str(uuid4()), str(uuid4())
    await receive(memory, received(flaky, phone="0900000503"))
    await receive(memory, received(wrong, phone="0900000400"))
    memory.channel.script["0900000503"] = [Outcome("transient", "gateway answered HTTP 503", code="http-503")]
    memory.channel.script["0900000400"] = [Outcome("rejected", "Invalid phone number", code="401")]

    await dispatch(memory)

    [waiting] = memory.notices.of(flaky)
    assert (
        waiting["status"] == "pending"
        and waiting["attempts"] == 1
        and waiting["last_error"] == "http-503: gateway answered HTTP 503"
    )
    assert waiting["next_attempt_at"] > datetime.now(UTC) + timedelta(seconds=0.9)  # base 2 s, jittered to [1 s, 2 s]
    [refused] = memory.notices.of(wrong)
    assert refused["status"] == "failed" and refused["permanent"] is True and refused["last_error"] == "401: Invalid phone number"
    [failed] = memory.events.of(NoticeFailed)
    assert failed.notice_id == str(refused["id"]) and failed.permanent and failed.recipient == "090****400"
    assert memory.events.of(NoticeSent) == []

    assert await dispatch(memory) == 0  # not before its time
    memory.notices.fall_due()
    assert await dispatch(memory) == 1
    assert waiting["status"] == "sent" and waiting["attempts"] == 2
    assert [n.recipient for n in memory.channel.sent] == ["0900000503", "0900000400", "0900000503"]
    assert [e.notice_id for e in memory.events.of(NoticeSent)] == [str(waiting["id"])]


async def test_a_notice_that_keeps_failing_for_now_fails_after_the_last_attempt_and_can_be_resent(memory: MemoryNotify) -> None:
    dossier_id = str(uuid4())
    await receive(memory, received(dossier_id, phone="0900000599"))
    memory.channel.script["0900000599"] = [Outcome("transient", "busy", code="http-503")] * memory.retries.max_attempts
    for _ in range(memory.retries.max_attempts):
        memory.notices.fall_due()
        await dispatch(memory)

    [notice] = memory.notices.of(dossier_id)
    assert notice["status"] == "failed" and notice["permanent"] is False and notice["attempts"] == memory.retries.max_attempts
    assert memory.events.of(NoticeFailed)[0].permanent is False

    with pytest.raises(Problem) as not_failed:
        await resend_notice(memory.uow, uuid4())
    assert not_failed.value.status == 404
    again = await resend_notice(memory.uow, notice["id"])
    assert again.status == "pending" and again.resends == 1 and again.attempts == 0
    await dispatch(memory)
    assert memory.channel.sent[-1].idempotency_id == f"{notice['id']}.r1"  # a gateway that honours ids does not drop it
    with pytest.raises(Problem) as sent:
        await resend_notice(memory.uow, notice["id"])
    assert sent.value.status == 409 and sent.value.extensions["current_status"] == "sent"


class Killed(Exception):
    """The process died: nothing after this point ran."""


async def sent_then_killed(memory: MemoryNotify, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """One SMS handed to its channel by a process that died before it recorded the outcome: the
    notice is still `sending`, and its lease has run out."""
    dossier_id = str(uuid4())
    await receive(memory, received(dossier_id))

    async def die(*args: Any) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(dispatching, "record_outcome", die)
        with pytest.raises(Killed):
            await dispatch(memory)
    [notice] = memory.notices.of(dossier_id)
    assert notice["status"] == "sending" and notice["attempts"] == 1 and len(memory.channel.sent) == 1
    memory.notices.fall_due()
    return notice


async def test_a_notice_in_doubt_that_its_channel_already_took_is_recorded_as_sent_without_sending_it_again(
    memory: MemoryNotify, monkeypatch: pytest.MonkeyPatch
) -> None:
    notice = await sent_then_killed(memory, monkeypatch)

    assert await dispatch(memory) == 1

    assert memory.channel.asked == [str(notice["id"])] and len(memory.channel.sent) == 1
    assert notice["status"] == "sent" and notice["attempts"] == 2 and notice["gateway_id"] == str(notice["id"])
    [sent] = memory.events.of(NoticeSent)
    assert sent.notice_id == str(notice["id"]) and sent.trigger == "dossier.received" and sent.recipient == "091****678"


@pytest.mark.parametrize("answer", ["no", "unknown", ConnectionError("status query timed out")])
async def test_a_notice_in_doubt_that_its_channel_did_not_take_or_cannot_tell_is_sent_again_under_the_same_id(
    memory: MemoryNotify, monkeypatch: pytest.MonkeyPatch, answer: Any
) -> None:
    notice = await sent_then_killed(memory, monkeypatch)
    memory.channel.took[str(notice["id"])] = answer  # "no": the process died before the send reached it

    await dispatch(memory)

    assert memory.channel.asked == [str(notice["id"])]
    assert [n.idempotency_id for n in memory.channel.sent] == [str(notice["id"])] * 2
    assert notice["status"] == "sent" and len(memory.events.of(NoticeSent)) == 1


async def test_a_notice_in_doubt_is_asked_about_before_quiet_hours_would_hold_it(
    memory: MemoryNotify, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Held till morning, it would be claimed from `held`, no longer in doubt, and sent again.
    notice = await sent_then_killed(memory, monkeypatch)
    local = datetime.now(VN_TZ)
    quiet = QuietHours((local - timedelta(hours=1)).time().replace(microsecond=0), (local + timedelta(hours=1)).time())

    await dispatch(memory, sms=quiet)

    assert notice["status"] == "sent" and len(memory.channel.sent) == 1 and len(memory.events.of(NoticeSent)) == 1


async def test_a_notice_claimed_for_the_first_time_or_after_a_failure_is_sent_without_asking(memory: MemoryNotify) -> None:
    dossier_id = str(uuid4())
    await receive(memory, received(dossier_id, phone="0900000503"))
    memory.channel.script["0900000503"] = [Outcome("transient", "gateway answered HTTP 503", code="http-503")]

    await dispatch(memory)
    memory.notices.fall_due()
    await dispatch(memory)

    [notice] = memory.notices.of(dossier_id)
    assert notice["status"] == "sent" and len(memory.channel.sent) == 2 and memory.channel.asked == []


async def test_an_overdue_step_alerts_the_responsible_agencys_staff_by_email(memory: MemoryNotify) -> None:
    dossier_id = str(uuid4())
    await receive(memory, received(dossier_id))
    due = NOW + timedelta(hours=8)
    overdue = DeadlineOverdue(
        scope="step", step_id="residence", agency_code="CA-XA", agency_name="Công an xã", due_at=due, detected_at=due
    )
    await alert_staff(memory.work, memory.drafting, from_("deadline", overdue, dossier_id))

    alerts = [n for n in memory.notices.of(dossier_id) if n["trigger"] == "deadline.overdue"]
    assert [(n["channel"], n["recipient"]) for n in alerts] == [
        ("email", "cutru@ca-xa.example.vn"),
        ("email", "truongcong@ca-xa.example.vn"),
    ]
    assert alerts[0]["subject"] == f"[Quá hạn] Hồ sơ {CODE} đã quá hạn từ 17:00 23/11/2026"
    assert alerts[0]["body"].startswith("Kính gửi Công an xã,")


async def test_an_sms_in_quiet_hours_waits_for_their_end_while_the_email_goes_at_once(memory: MemoryNotify) -> None:
    dossier_id = str(uuid4())
    await receive(memory, received(dossier_id, email="lan@example.vn", notify_channels=["sms", "email"]))
    local = datetime.now(VN_TZ)
    start, end = (local - timedelta(hours=1)).time(), (local + timedelta(hours=1)).time()
    quiet = QuietHours(start.replace(microsecond=0), time(end.hour, end.minute))

    await dispatch(memory, sms=quiet)

    by_channel = {n["channel"]: n for n in memory.notices.of(dossier_id)}
    assert by_channel["email"]["status"] == "sent" and [n.channel for n in memory.channel.sent] == ["email"]
    held = by_channel["sms"]
    assert held["status"] == "held" and held["attempts"] == 0
    assert held["held_until"] == held["next_attempt_at"] and held["held_until"].astimezone(VN_TZ).time() == quiet.end


async def test_a_delivery_receipt_marks_the_sms_delivered_once(memory: MemoryNotify) -> None:
    dossier_id = str(uuid4())
    await receive(memory, received(dossier_id))
    await dispatch(memory)
    [sms] = memory.notices.of(dossier_id)

    first = await apply_delivery_receipt(memory.uow, str(sms["id"]), "DELIVERED", delivered=True)
    again = await apply_delivery_receipt(memory.uow, str(sms["id"]), "DELIVERED", delivered=True)

    assert first.status == again.status == "delivered" and sms["delivered_at"] is not None
    assert len(memory.events.of(NoticeDelivered)) == 1
    with pytest.raises(Problem) as unknown:
        await apply_delivery_receipt(memory.uow, "nope", "DELIVERED", delivered=True)
    assert unknown.value.status == 404 and unknown.value.title == "Unknown notice"


async def test_the_delivery_log_is_read_within_the_receiving_unit_and_each_read_is_audited(memory: MemoryNotify) -> None:
    dossier_id = str(uuid4())
    await receive(memory, received(dossier_id))  # received at 000.00.00.H30
    audit = memory.work.audit
    assert isinstance(audit, MemoryAudit)

    with pytest.raises(Problem) as elsewhere:
        await delivery_log(memory.uow, UUID(dossier_id), Scope(units=("000.01.30.H30",)))
    assert elsewhere.value.status == 404 and audit.reads == []

    [notice] = await delivery_log(memory.uow, UUID(dossier_id), Scope(units=("000.00.00.H30",)))
    assert notice.recipient_masked == "091****678"
    assert audit.reads == [("notices", [dossier_id], {"notices": 1})]


def failed_count(channel: str, permanent: str) -> float:
    return REGISTRY.get_sample_value("motcua_notify_notices_failed_total", {"channel": channel, "permanent": permanent}) or 0.0


async def test_notices_failed_for_good_are_counted_by_channel_and_whether_the_failure_is_permanent(memory: MemoryNotify) -> None:
    """What the 'notices failing' alert reads: a rejection and an undelivered receipt (permanent),
    retries run out (not permanent); a failure for now is not counted."""
    refused, tired, unreached = str(uuid4()), str(uuid4()), str(uuid4())
    before = failed_count("sms", "true"), failed_count("sms", "false")
    await receive(memory, received(refused, phone="0900000401"))
    await receive(memory, received(tired, phone="0900000504"))
    await receive(memory, received(unreached, phone="0900000777"))
    memory.channel.script["0900000401"] = [Outcome("rejected", "Invalid phone number", code="401")]
    memory.channel.script["0900000504"] = [Outcome("transient", "busy", code="http-503")] * memory.retries.max_attempts

    await dispatch(memory)
    assert (failed_count("sms", "true"), failed_count("sms", "false")) == (before[0] + 1, before[1])
    for _ in range(memory.retries.max_attempts - 1):
        memory.notices.fall_due()
        await dispatch(memory)
    assert failed_count("sms", "false") == before[1] + 1

    [sms] = memory.notices.of(unreached)
    await apply_delivery_receipt(memory.uow, str(sms["id"]), "UNDELIVERABLE", delivered=False)
    assert failed_count("sms", "true") == before[0] + 2
