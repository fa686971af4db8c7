"""Notices over the real stack: Kafka, PostgreSQL, a real SMTP server and a real HTTP SMS gateway
on loopback. What the gateway and the mailbox received is counted, never assumed."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.calendar import VN_TZ
from services.events.schemas import (
    ApologyIssued,
    ApplicantContact,
    DeadlineOverdue,
    DeadlineWarning,
    DossierReceived,
    DossierRefused,
    FeeRequested,
    ResultReturned,
    RouteCompleted,
    SupplementRequested,
)
from tests.conftest import eventually

from .conftest import DOWN_PHONE, FLAKY_PHONE, REJECTED_PHONE, LoopbackGateway, Mailbox, Notify

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def received(code: str, **applicant: Any) -> DossierReceived:
    return DossierReceived(
        dossier_code=code,
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
        applicant=ApplicantContact(**{"name": "Nguyễn Thị Lan", **applicant}),
    )


def new_dossier(n: int) -> tuple[str, str]:
    return str(uuid.uuid4()), f"000.00.00.H30-261123-{n:04d}"


def plain(mail: Any) -> str:
    return mail.get_body(("plain",)).get_content().replace("\r\n", "\n")


def settled(
    notify: Notify, dossier_id: str, count: int, final: tuple[str, ...] = ("sent", "delivered", "failed", "skipped")
) -> list[dict[str, Any]]:
    return eventually(
        lambda: (n := notify.notices(dossier_id)) and len(n) == count and all(x["status"] in final for x in n) and n,
        timeout=60,
        what=f"{count} settled notices of {dossier_id}",
    )


def test_a_receipt_goes_by_sms_and_by_email_with_form_1_and_its_delivery_receipt_is_recorded(
    notify: Notify, gateway: LoopbackGateway, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    dossier_id, code = new_dossier(1)
    notify.publish(
        ("intake", received(code, phone="0912000001", email="lan@example.vn", notify_channels=["sms", "email"]), dossier_id)
    )
    notices = {n["channel"]: n for n in settled(notify, dossier_id, 2)}
    assert notices["sms"]["status"] == "sent" and notices["email"]["status"] == "sent"

    [request] = gateway.sent_to("0912000001")
    body = request["body"]
    assert body["from"] == "UBND TINH" and body["request_id"] == notices["sms"]["id"]
    assert request["headers"]["Idempotency-Key"] == notices["sms"]["id"]
    assert (
        body["text"]
        == f"Ho so {code} da tiep nhan, hen tra KQ 17:00 25/11/2026. Tra cuu: https://dvc.example.vn/tra-cuu?ma={code}"
    )

    [mail] = box.to("lan@example.vn")
    assert mail["Subject"] == f"Giấy tiếp nhận hồ sơ {code} và hẹn trả kết quả"
    assert mail["Message-ID"] == f"<{notices['email']['id']}@notify.motcua>"
    text = plain(mail)
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Ngày hẹn trả kết quả: 17:00 25/11/2026." in text and "<p>Ngày hẹn trả kết quả: 17:00 25/11/2026.</p>" in html
    [form] = list(mail.iter_attachments())
    assert form.get_filename() == f"mau-01-giay-tiep-nhan-hen-tra-{code}.html"
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in form.get_content()

    receipt = {"request_id": notices["sms"]["id"], "status": "DELIVERED"}
    for _ in range(2):  # gateways repeat callbacks
        answer = notify.receipt(receipt)
        assert answer.status_code == 200 and answer.json()["status"] == "delivered"
    sms = next(n for n in notify.notices(dossier_id) if n["channel"] == "sms")
    assert sms["status"] == "delivered" and sms["delivered_at"] is not None
    bad = notify.receipt({"status": "DELIVERED"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "request_id"
    assert notify.receipt({"request_id": "nope", "status": "DELIVERED"}).status_code == 404

    kinds = eventually(
        lambda: (k := Counter(e.type for e in notify.events() if e.dossier_id == dossier_id))["notify.notice_delivered"] and k,
        what="notice events",
    )
    assert kinds == {"notify.notice_sent": 2, "notify.notice_delivered": 1}


def test_every_step_of_a_dossiers_life_reaches_the_citizen_in_their_language(
    notify: Notify, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    dossier_id, code = new_dossier(2)
    address = "binh@example.vn"
    # An agency's fee request read before the receipt (topics are read independently) waits for the contact.
    fee = FeeRequested(step_id="tax", agency_code="THUE", amount_vnd=1250000, description="Lệ phí trước bạ", requested_at=NOW)
    notify.publish(("routing", fee, dossier_id))
    time.sleep(1.0)
    assert notify.notices(dossier_id) == []
    notify.publish(
        ("intake", received(code, email=address, notify_channels=["email"], language="en"), dossier_id),
        (
            "intake",
            SupplementRequested(requested_by="counter", items=["Birth certificate copy", "Form CT01"], requested_at=NOW),
            dossier_id,
        ),
        (
            "intake",
            SupplementRequested(requested_by="CA-XA", items=["echo"], requested_at=NOW),
            dossier_id,
        ),  # not intake's to announce
        (
            "routing",
            SupplementRequested(requested_by="CA-XA", step_id="residence", items=["Proof of residence"], requested_at=NOW),
            dossier_id,
        ),
        ("routing", DossierRefused(refused_by="BHXH", reason="Already insured", refused_at=NOW), dossier_id),
        (
            "deadline",
            ApologyIssued(
                responsible_agency_code="CA-XA",
                responsible_agency_name="Commune police",
                reason="verification",
                old_appointment_at=NOW,
                new_appointment_at=NOW + timedelta(days=3),
                issued_at=NOW,
            ),
            dossier_id,
        ),
        ("routing", RouteCompleted(completed_at=NOW), dossier_id),
        ("intake", ResultReturned(returned_at=NOW, method="post"), dossier_id),
    )
    notices = settled(notify, dossier_id, 8)
    assert Counter(n["trigger"] for n in notices) == {
        "dossier.received": 1,
        "routing.fee_requested": 1,
        "dossier.supplement_requested": 2,
        "dossier.refused": 1,
        "deadline.apology_issued": 1,
        "routing.route_completed": 1,
        "dossier.result_returned": 1,
    }
    assert all(n["status"] == "sent" and n["language"] == "en" for n in notices)
    received_mails = eventually(lambda: len(box.to(address)) == 8 and box.to(address), what="8 e-mails")
    mails = {m["Subject"]: m for m in received_mails}
    supplements = sorted(plain(m) for m in received_mails if m["Subject"] == f"Dossier {code}: documents to supplement")
    assert len(supplements) == 2
    assert "- Birth certificate copy\n- Form CT01\n" in supplements[0] and "- Proof of residence\n" in supplements[1]
    supplement = mails[f"Dossier {code}: documents to supplement"]
    assert [a.get_filename() for a in supplement.iter_attachments()] == [f"mau-02-phieu-yeu-cau-bo-sung-{code}.html"]
    apology = mails[f"Apology and new appointment for dossier {code}"]
    assert "New appointment: 09:00, 26 Nov 2026." in plain(apology)
    assert [a.get_filename() for a in apology.iter_attachments()] == [f"mau-04-phieu-xin-loi-hen-lai-{code}.html"]
    assert "Reason: Already insured" in plain(mails[f"Dossier {code} refused"])
    assert "please pay 1,250,000 VND" in plain(mails[f"Dossier {code}: fees to pay"])


def test_a_citizen_who_opted_out_gets_only_the_notices_the_law_requires(notify: Notify, gateway: LoopbackGateway) -> None:
    dossier_id, code = new_dossier(3)
    phone = "0912000003"
    notify.publish(
        ("intake", received(code, phone=phone, notify_channels=["sms"], opt_out_non_essential=True), dossier_id),
        (
            "routing",
            FeeRequested(step_id="tax", agency_code="THUE", amount_vnd=50000, description="Phí", requested_at=NOW),
            dossier_id,
        ),
        ("routing", RouteCompleted(completed_at=NOW), dossier_id),
        ("intake", ResultReturned(returned_at=NOW, method="counter"), dossier_id),
    )
    notices = {n["trigger"]: n for n in settled(notify, dossier_id, 4)}
    assert notices["routing.fee_requested"]["status"] == "skipped" and notices["dossier.result_returned"]["status"] == "skipped"
    assert notices["dossier.received"]["status"] == "sent" and notices["routing.route_completed"]["status"] == "sent"
    texts = [r["body"]["text"] for r in gateway.sent_to(phone)]
    assert len(texts) == 2 and "da co ket qua" in texts[1]


def test_deadline_warnings_and_overdue_alerts_go_to_the_responsible_agencys_staff(
    notify: Notify, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    dossier_id, code = new_dossier(4)
    due = NOW + timedelta(hours=8)
    notify.publish(
        ("intake", received(code, phone="0912000004", notify_channels=["sms"]), dossier_id),
        (
            "deadline",
            DeadlineOverdue(
                scope="step", step_id="residence", agency_code="CA-XA", agency_name="Công an xã", due_at=due, detected_at=due
            ),
            dossier_id,
        ),
        ("deadline", DeadlineWarning(scope="dossier", threshold="1-working-day", due_at=due, warned_at=NOW), dossier_id),
    )
    notices = settled(notify, dossier_id, 4)
    staff = sorted((n["trigger"], n["recipient_masked"]) for n in notices if n["channel"] == "email")
    assert staff == [
        ("deadline.overdue", "c***@ca-xa.example.vn"),
        ("deadline.overdue", "t***@ca-xa.example.vn"),
        ("deadline.warning", "t***@hcc.example.vn"),
    ]
    [overdue] = [m for m in box.to("cutru@ca-xa.example.vn") if code in m["Subject"]]
    assert overdue["Subject"] == f"[Quá hạn] Hồ sơ {code} đã quá hạn từ 17:00 23/11/2026"
    assert overdue.get_body(("plain",)).get_content().startswith("Kính gửi Công an xã,")  # type: ignore[union-attr]


def test_transient_failures_are_retried_permanent_ones_recorded_and_a_failed_notice_can_be_resent(
    notify: Notify, gateway: LoopbackGateway, mailbox: tuple[Mailbox, int]
) -> None:
    ids = {}
    for n, phone in enumerate((FLAKY_PHONE, REJECTED_PHONE, DOWN_PHONE)):
        dossier_id, code = new_dossier(10 + n)
        ids[phone] = dossier_id
        notify.publish(("intake", received(code, phone=phone, notify_channels=["sms"]), dossier_id))
    bounce_id, bounce_code = new_dossier(13)
    notify.publish(("intake", received(bounce_code, email="nobody@bounce.example.vn", notify_channels=["email"]), bounce_id))

    [flaky] = settled(notify, ids[FLAKY_PHONE], 1)
    assert flaky["status"] == "sent" and flaky["attempts"] == 3 and len(gateway.sent_to(FLAKY_PHONE)) == 3
    [rejected] = settled(notify, ids[REJECTED_PHONE], 1)
    assert rejected["status"] == "failed" and rejected["permanent"] is True and rejected["attempts"] == 1
    assert rejected["last_error"] == "401: Invalid phone number"
    [down] = settled(notify, ids[DOWN_PHONE], 1)
    assert (
        down["status"] == "failed"
        and down["permanent"] is False
        and down["attempts"] == 4
        and len(gateway.sent_to(DOWN_PHONE)) == 4
    )
    [bounced] = settled(notify, bounce_id, 1)
    assert bounced["status"] == "failed" and bounced["permanent"] is True and bounced["last_error"].startswith("550")

    failed = {n["id"] for n in notify.call("GET", "/admin/notices", params={"status": "failed"}).json()}
    assert {rejected["id"], down["id"], bounced["id"]} <= failed

    def failure_events() -> list[Any]:
        found = [e for e in notify.events() if e.type == "notify.notice_failed"]
        return found if len(found) >= 3 else []

    failures = {e.payload["notice_id"]: e.payload for e in eventually(failure_events, what="failure events")}
    assert failures[rejected["id"]]["permanent"] is True and failures[down["id"]]["permanent"] is False

    metrics = httpx.get(f"{notify.url}/metrics").text
    assert 'motcua_notify_sends_total{channel="sms",outcome="transient"}' in metrics

    refused = notify.call("POST", f"/admin/notices/{flaky['id']}/resend")
    assert refused.status_code == 409 and refused.json()["current_status"] == "sent"
    assert notify.call("POST", f"/admin/notices/{uuid.uuid4()}/resend").status_code == 404

    gateway.accept_anyway.add(REJECTED_PHONE)  # the number was fixed at the operator's end
    assert notify.call("POST", f"/admin/notices/{rejected['id']}/resend").json()["status"] == "pending"
    [resent] = settled(notify, ids[REJECTED_PHONE], 1, final=("sent",))
    assert resent["resends"] == 1
    last = gateway.sent_to(REJECTED_PHONE)[-1]
    assert last["body"]["request_id"] == f"{rejected['id']}.r1" and gateway.handset[f"{rejected['id']}.r1"] == 1


def test_the_gateway_rate_limit_is_kept(notify: Notify, gateway: LoopbackGateway) -> None:
    phones = [f"09130000{i:02d}" for i in range(12)]
    events = []
    for i, phone in enumerate(phones):
        dossier_id, code = new_dossier(100 + i)
        events.append(("intake", received(code, phone=phone, notify_channels=["sms"]), dossier_id))
    notify.publish(*events)
    eventually(lambda: all(gateway.sent_to(p) for p in phones), what="every SMS at the gateway")
    arrivals = sorted(gateway.sent_to(p)[0]["at"] for p in phones)
    rate = 5  # NOTIFY_SMS_RATE_PER_SECOND
    # No second holds more than `rate` sends: any rate+1 consecutive arrivals span at least a second.
    assert all(later - first >= 0.95 for first, later in zip(arrivals, arrivals[rate:], strict=False))


def test_killing_notify_mid_batch_sends_nothing_twice(
    notify: Notify, gateway: LoopbackGateway, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    count = 16
    dossiers = [new_dossier(200 + i) for i in range(count)]
    phones = [f"09140000{i:02d}" for i in range(count)]
    gateway.delay = 1.0
    gateway.freeze_at = 4  # every send slot is then waiting on the gateway: kill there
    try:
        notify.publish(
            *[
                ("intake", received(code, phone=phone, email=f"c{i}@example.vn", notify_channels=["sms", "email"]), dossier_id)
                for i, ((dossier_id, code), phone) in enumerate(zip(dossiers, phones, strict=False))
            ]
        )
        assert gateway.frozen.wait(60), "the gateway never had four messages in flight"
        assert notify.process is not None
        notify.process.kill()
    finally:
        gateway.freeze_at = None
        gateway.thaw.set()
    notify.start()
    for dossier_id, _ in dossiers:
        notices = settled(notify, dossier_id, 2, final=("sent",))
        assert all(n["status"] == "sent" for n in notices)

    sms_ids = [r["body"]["request_id"] for p in phones for r in gateway.sent_to(p)]
    assert len(set(sms_ids)) == count
    assert all(gateway.handset[i] == 1 for i in set(sms_ids))  # each reached the phone once
    assert len(sms_ids) > count  # some were sent again after the crash: the idempotency id absorbed them
    mails = [m for i in range(count) for m in box.to(f"c{i}@example.vn")]
    assert len(mails) == count and len({m["Message-ID"] for m in mails}) == count
    gateway.delay = 0.0


def test_sms_in_quiet_hours_wait_for_the_morning_while_email_goes_at_once(
    notify: Notify, gateway: LoopbackGateway, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    notify.stop()
    now = datetime.now(VN_TZ)
    end = now + timedelta(seconds=25)
    notify.start(NOTIFY_QUIET_HOURS=f"{now - timedelta(hours=1):%H:%M:%S}-{end:%H:%M:%S}")
    dossier_id, code = new_dossier(300)
    phone = "0915000000"
    notify.publish(("intake", received(code, phone=phone, email="dem@example.vn", notify_channels=["sms", "email"]), dossier_id))
    held = eventually(
        lambda: (
            (n := {x["channel"]: x for x in notify.notices(dossier_id)})
            and n.get("sms", {}).get("status") == "held"
            and n.get("email", {}).get("status") == "sent"
            and n
        ),
        what="the SMS held and the e-mail sent",
    )
    assert datetime.fromisoformat(held["sms"]["held_until"]) == end.replace(microsecond=0)
    assert box.to("dem@example.vn") and not gateway.sent_to(phone)
    settled(notify, dossier_id, 2, final=("sent",))
    [request] = gateway.sent_to(phone)
    assert datetime.now(VN_TZ) >= end.replace(microsecond=0)
    assert code in request["body"]["text"]
