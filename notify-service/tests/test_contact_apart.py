"""The applicant's contact and the dossier's receipt travel apart (the contact sealed, on intake's
private stream): whichever notify reads first, the citizen is told of the receipt exactly once, and
what waited for both follows. A channel's error never keeps the citizen's phone. Use cases over the
in-memory repository; no database, no Kafka."""

from __future__ import annotations

import logging
from dataclasses import replace
from uuid import UUID, uuid4

import pytest

from notify.application.delivery import resend_notice
from notify.application.dispatching import dispatch_once
from notify.application.notices import note_end, notify_citizen, remember_contact, remember_receipt
from notify.application.ports import Outcome
from services.events.schemas import ContactGiven, DossierWithdrawn, NoticeFailed, RouteCompleted
from services.personal_data.keys import KeyRing
from services.problems import Problem

from .conftest import MemoryNotify, apart_envelopes, contact_keys
from .test_application import CONSOLE_LINK, NOW, from_, received

NAME = "Nguyễn Thị Lan"


async def test_a_receipt_read_before_the_contact_waits_without_the_name_and_the_contact_completes_it(
    memory: MemoryNotify,
) -> None:
    drafting = replace(memory.drafting, lookup_url=CONSOLE_LINK)
    dossier_id = str(uuid4())
    given, receipt = apart_envelopes(received(dossier_id, secret="7KQ2MZ4P", email="lan@example.vn"))
    await notify_citizen(memory.work, drafting, from_("routing", RouteCompleted(completed_at=NOW), dossier_id))
    await remember_receipt(memory.work, drafting, receipt)
    assert memory.notices.of(dossier_id) == []
    waiting = memory.parking.parked[dossier_id]
    assert [e.type for e in waiting] == ["routing.route_completed", "dossier.received"]
    assert NAME not in waiting[1].model_dump_json()  # nothing personal waits in clear

    await remember_contact(memory.work, drafting, given, contact_keys())
    notices = memory.notices.of(dossier_id)
    assert [n["trigger"] for n in notices] == ["dossier.received", "routing.route_completed"]
    assert "ma tra cuu 7KQ2MZ4P" in notices[0]["body"]  # the receipt tells the look-up secret
    assert memory.parking.parked.get(dossier_id, []) == []
    assert memory.notices.contacts[UUID(dossier_id)].lookup_secret is None  # not kept after the receipt notice

    again = ContactGiven.model_validate(given.payload).envelope(dossier_id=dossier_id, producer="intake")
    await remember_contact(memory.work, drafting, again, contact_keys())  # a contact given twice: harmless
    assert len(memory.notices.of(dossier_id)) == 2


async def test_a_contact_read_before_the_receipt_is_kept_and_the_receipt_tells_the_citizen_once(memory: MemoryNotify) -> None:
    dossier_id = str(uuid4())
    given, receipt = apart_envelopes(received(dossier_id))
    await remember_contact(memory.work, memory.drafting, given, contact_keys())
    assert memory.notices.of(dossier_id) == []
    await notify_citizen(memory.work, memory.drafting, from_("routing", RouteCompleted(completed_at=NOW), dossier_id))
    assert memory.notices.of(dossier_id) == []  # the receipt not read yet: it waits

    await remember_receipt(memory.work, memory.drafting, receipt)
    await remember_contact(memory.work, memory.drafting, given, contact_keys())
    notices = memory.notices.of(dossier_id)
    assert [(n["trigger"], n["channel"]) for n in notices] == [
        ("dossier.received", "sms"),
        ("routing.route_completed", "sms"),
    ]


async def test_a_contact_sealed_under_another_key_is_refused(memory: MemoryNotify) -> None:
    dossier_id = str(uuid4())
    given, _ = apart_envelopes(received(dossier_id))
    stranger = KeyRing({"x1": b"\x01" * 32})
    with pytest.raises(ValueError):
        await remember_contact(memory.work, memory.drafting, given, stranger)
    assert memory.notices.contacts == {}


async def test_the_end_of_a_dossier_is_recorded_even_when_it_comes_before_the_contact(memory: MemoryNotify) -> None:
    dossier_id = str(uuid4())
    withdrawn = from_("intake", DossierWithdrawn(withdrawn_at=NOW), dossier_id)
    await note_end(memory.work, memory.drafting, withdrawn)
    assert UUID(dossier_id) not in memory.notices.ended
    given, receipt = apart_envelopes(received(dossier_id))
    await remember_contact(memory.work, memory.drafting, given, contact_keys())
    await remember_receipt(memory.work, memory.drafting, receipt)
    assert memory.notices.ended[UUID(dossier_id)] == NOW


async def test_a_gateway_error_naming_the_phone_is_kept_and_logged_without_it(
    memory: MemoryNotify, caplog: pytest.LogCaptureFixture
) -> None:
    dossier_id = str(uuid4())
    phone = "0912345678"
    await remember_receipt(memory.work, memory.drafting, received(dossier_id, phone=phone))
    memory.channel.script[phone] = [Outcome("rejected", f"Invalid phone number {phone} (+84912345678)", code="401")]
    with caplog.at_level(logging.DEBUG):
        await dispatch_once(memory.uow, memory.outlets(), batch=20, lease_seconds=60, retries=memory.retries)

    [notice] = memory.notices.of(dossier_id)
    assert notice["status"] == "failed" and notice["last_error"].startswith("401: Invalid phone number")
    assert "912345678" not in notice["last_error"]
    [failed] = memory.events.of(NoticeFailed)
    assert "912345678" not in failed.model_dump_json() and failed.recipient == "091****678"
    assert "912345678" not in caplog.text


async def test_an_exception_from_a_channel_is_kept_without_the_value_it_carried(memory: MemoryNotify) -> None:
    dossier_id = str(uuid4())
    await remember_receipt(memory.work, memory.drafting, received(dossier_id, phone="0912345679"))

    async def broken(notice: object) -> Outcome:
        raise RuntimeError("cannot reach 0912345679 now")

    memory.channel.send = broken  # type: ignore[method-assign]
    await dispatch_once(memory.uow, memory.outlets(), batch=20, lease_seconds=60, retries=memory.retries)
    [notice] = memory.notices.of(dossier_id)
    assert notice["status"] == "pending" and "0912345679" not in notice["last_error"]


async def test_a_failed_notice_whose_texts_were_erased_is_not_sent_again(memory: MemoryNotify) -> None:
    dossier_id = str(uuid4())
    await remember_receipt(memory.work, memory.drafting, received(dossier_id, phone="0900000400"))
    memory.channel.script["0900000400"] = [Outcome("rejected", "Invalid phone number", code="401")]
    await dispatch_once(memory.uow, memory.outlets(), batch=20, lease_seconds=60, retries=memory.retries)
    [notice] = memory.notices.of(dossier_id)
    memory.notices.rows[notice["id"]].update(recipient="", body="", erased_at=NOW)  # as the retention job leaves it
    with pytest.raises(Problem) as refused:
        await resend_notice(memory.uow, notice["id"])
    assert refused.value.status == 409 and "erased" in refused.value.detail
