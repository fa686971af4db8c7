"""Citizen id numbers, phone numbers, e-mail addresses and look-up secrets never appear in the
services' logs, and in events only where a consumer needs them (notify needs the contact given at
intake, and the secret for the notice of receipt's look-up link)."""

from __future__ import annotations

import asyncio

from services.events import Envelope
from tests.conftest import System, eventually, kafka_records

CITIZEN_ID = "079188123456"
PHONE = "0977123456"
EMAIL = "tran.thi.mai@example.vn"
NEEDS_CONTACT = {"dossier.received"}


async def all_messages(env: dict[str, str]) -> list[bytes]:
    return [r.value for r in await kafka_records(env)]


def test_personal_data_stays_out_of_logs_and_of_events_that_do_not_need_it(system: System) -> None:
    body = {
        "procedure_code": "1.004227",
        "channel": 2,
        "documents": [{"code": "request-form"}],
        "applicant": {
            "name": "Trần Thị Mai",
            "citizen_id": CITIZEN_ID,
            "phone": PHONE,
            "email": EMAIL,
            "notify_channels": ["sms", "email"],
        },
    }
    dossier = system.submit(body)
    eventually(
        lambda: (n := system.get("notify", f"/dossiers/{dossier['id']}/notices")) and all(x["status"] == "sent" for x in n) and n,
        what="the notices",
    )

    lookup_secret = dossier["lookup_secret"]
    for log in system.logs.glob("*.log"):
        text = log.read_text(encoding="utf-8", errors="replace")
        for secret in (CITIZEN_ID, PHONE, EMAIL, lookup_secret):
            assert secret not in text, f"{secret} leaked into {log.name}"

    messages = asyncio.run(all_messages(system.env))
    assert messages
    for raw in messages:
        text = raw.decode("utf-8", errors="replace")
        assert CITIZEN_ID not in text, "the citizen id number is needed by no consumer"
        if PHONE in text or EMAIL in text or lookup_secret in text:
            assert Envelope.from_bytes(raw).type in NEEDS_CONTACT, text[:200]
