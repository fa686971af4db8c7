"""Who may call notify, with real tokens from Keycloak: a dossier's delivery log (the citizen's
masked phone and e-mail, what they were told) only for the officers of the unit that received it
and the province, each read in the audit trail with the officer's name; the operator's dead
letters for the operator only; the SMS gateway's delivery receipts only with the shared callback
secret, and none at all when no secret is configured."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from conftest import H30, OFFICERS, PHU_LOC
from services.db import asyncpg_dsn
from services.events.schemas import ApplicantContact, DossierReceived
from tests.conftest import eventually

from .conftest import RECEIPT_TOKEN, Notify

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ROLES = ("counter", "counter_b", "leader", "leader_b", "specialist", "specialist_b", "operator", "nobody", "admin", None)


def received(unit: str, code: str, phone: str) -> DossierReceived:
    return DossierReceived(
        dossier_code=code,
        procedure_code="1.001193",
        procedure_name="Đăng ký khai sinh",
        catalogue_version="test",
        receiving_unit=unit,
        channel=1,
        received_at=NOW,
        clock_starts_at=NOW,
        appointment_at=NOW + timedelta(days=2),
        budget_hours=16,
        route=[],
        applicant=ApplicantContact(name="Lê Thị Hoa", phone=phone, email="hoa@example.vn", notify_channels=["sms", "email"]),
    )


def status_of(response: httpx.Response) -> int:
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json", response.text
    return response.status_code


@pytest.fixture(scope="module")
def dossiers(notify: Notify) -> dict[str, str]:
    """A dossier received at H30 and one at Phú Lộc, each told of its receipt by SMS and e-mail."""
    made = {H30: str(uuid.uuid4()), PHU_LOC: str(uuid.uuid4())}
    notify.publish(
        ("intake", received(H30, f"{H30}-261123-0901", "0916000001"), made[H30]),
        ("intake", received(PHU_LOC, f"{PHU_LOC}-261123-0902", "0916000002"), made[PHU_LOC]),
    )
    for dossier_id in made.values():
        eventually(
            lambda d=dossier_id: [n["status"] for n in notify.notices(d)] == ["sent", "sent"],
            what="the receipt's two notices sent",
        )
    return made


def test_a_dossiers_notices_are_read_by_the_officers_of_its_receiving_unit_and_the_province(
    notify: Notify, dossiers: dict[str, str]
) -> None:
    expected = {
        # who: (H30's dossier, Phú Lộc's)
        "counter": (200, 404),
        "counter_b": (404, 200),
        "leader": (200, 404),
        "leader_b": (404, 200),
        "admin": (200, 200),
        "specialist": (403, 403),
        "specialist_b": (403, 403),
        "operator": (403, 403),
        "nobody": (403, 403),
        None: (401, 401),
    }
    mismatches = []
    for who, statuses in expected.items():
        got = tuple(status_of(notify.call("GET", f"/dossiers/{dossiers[u]}/notices", who)) for u in (H30, PHU_LOC))
        if got != statuses:
            mismatches.append(f"{who} GET /dossiers/{{id}}/notices: {got}, expected {statuses}")
    assert not mismatches, "\n".join(mismatches)

    mine = notify.call("GET", f"/dossiers/{dossiers[H30]}/notices", "counter").json()
    assert sorted(n["recipient_masked"] for n in mine) == ["091****001", "h***@example.vn"]
    unknown = notify.call("GET", f"/dossiers/{uuid.uuid4()}/notices", "counter_b")
    out_of_scope = notify.call("GET", f"/dossiers/{dossiers[H30]}/notices", "counter_b")
    assert unknown.status_code == out_of_scope.status_code == 404
    assert unknown.json()["title"] == out_of_scope.json()["title"]  # nothing tells one from the other


def audit(notify: Notify, dossier_id: str) -> list[dict[str, Any]]:
    response = notify.call("GET", "/audit-trail", "operator", params={"dossier_id": dossier_id})
    assert response.status_code == 200, response.text
    return list(response.json())


def test_every_read_of_a_dossiers_notices_is_in_the_audit_trail_naming_the_officer(
    notify: Notify, dossiers: dict[str, str]
) -> None:
    dossier_id = dossiers[PHU_LOC]
    before = {row["id"] for row in audit(notify, dossier_id)}
    assert notify.call("GET", f"/dossiers/{dossier_id}/notices", "leader_b").status_code == 200
    assert notify.call("GET", f"/dossiers/{dossier_id}/notices", "counter").status_code == 404  # nothing was read
    assert notify.call("GET", f"/dossiers/{dossier_id}/notices", "counter_b").status_code == 200

    reads = [row for row in audit(notify, dossier_id) if row["id"] not in before and row["action"] == "read:notices"]
    assert [(r["actor_kind"], r["actor_name"], r["actor_unit"]) for r in reads] == [
        ("officer", OFFICERS["leader_b"].name, PHU_LOC),
        ("officer", OFFICERS["counter_b"].name, PHU_LOC),
    ]
    assert all(r["detail"] == {"notices": 2} for r in reads)


async def test_a_dossier_received_before_its_unit_was_kept_is_the_provinces_only(notify: Notify) -> None:
    """Migration 0004 leaves the receiving unit of the dossiers already known empty."""
    dossier_id = uuid.uuid4()
    connection = await asyncpg.connect(asyncpg_dsn(notify.env["DATABASE_URL"]))
    try:
        await connection.execute(
            "INSERT INTO notify.contacts (dossier_id, dossier_code, procedure_name, name, phone, email, channels, language, "
            "opt_out_non_essential) VALUES ($1, 'OLD-0001', 'Đăng ký khai sinh', 'Lê Văn Cũ', '0916000009', NULL, '[]', 'vi', false)",
            dossier_id,
        )
    finally:
        await connection.close()
    for who, expected in (("counter", 404), ("leader", 404), ("counter_b", 404), ("admin", 200)):
        response = await asyncio.to_thread(notify.call, "GET", f"/dossiers/{dossier_id}/notices", who)
        assert response.status_code == expected, who


def test_the_dead_letters_are_the_operators_only(notify: Notify, dossiers: dict[str, str]) -> None:
    mismatches = []
    for method, path, ok in (
        ("GET", "/admin/notices?status=sent", 200),
        ("POST", f"/admin/notices/{uuid.uuid4()}/resend", 404),
    ):
        for who in ROLES:
            expected = ok if who == "operator" else 401 if who is None else 403
            got = status_of(notify.call(method, path, who))
            if got != expected:
                mismatches.append(f"{who} {method} {path}: {got}, expected {expected}")
    assert not mismatches, "\n".join(mismatches)

    listed = {n["dossier_id"] for n in notify.call("GET", "/admin/notices?status=sent&limit=1000", "operator").json()}
    assert dossiers[H30] in listed
    reads = [r for r in audit(notify, dossiers[H30]) if r["action"] == "read:notices" and r["detail"].get("status") == "sent"]
    assert reads and reads[-1]["actor_name"] == OFFICERS["operator"].name


def test_delivery_receipts_need_the_gateways_secret_not_a_token_and_none_are_taken_without_one(
    notify: Notify, dossiers: dict[str, str]
) -> None:
    sms = next(n for n in notify.notices(dossiers[H30]) if n["channel"] == "sms")
    receipt = {"request_id": sms["id"], "status": "DELIVERED"}
    assert status_of(notify.receipt(receipt, token=None)) == 401
    assert status_of(notify.receipt(receipt, token="guess")) == 401
    officer = httpx.post(f"{notify.url}/sms/delivery-receipts", json=receipt, auth=notify.identities.auth("all"), timeout=10)
    assert status_of(officer) == 401  # the gateway's secret, not anyone's access token
    assert notify.receipt({"request_id": "never-sent", "status": "DELIVERED"}).status_code == 404  # authentic, unknown id

    notify.stop()
    notify.start(NOTIFY_SMS_RECEIPT_TOKEN="")  # no secret configured: deny by default, not open
    for token in (None, "", RECEIPT_TOKEN):
        refused = notify.receipt(receipt, token=token)
        assert status_of(refused) == 401 and "no callback token is configured" in refused.json()["detail"]
    assert next(n for n in notify.notices(dossiers[H30]) if n["channel"] == "sms")["status"] == "sent"
