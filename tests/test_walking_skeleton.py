"""A dossier posted to intake goes through routing, deadline and notify, over the real stack."""

from __future__ import annotations

from datetime import datetime

from tests.conftest import BIRTH_GROUP, System, eventually


def test_a_received_dossier_is_routed_tracked_and_noticed_once(system: System) -> None:
    dossier = system.submit(BIRTH_GROUP)
    dossier_id = dossier["id"]
    assert dossier["status"] == 2 and dossier["code"].startswith("000.00.00.H30-")

    route = eventually(lambda: system.get("routing", f"/dossiers/{dossier_id}/route"), what="the route")
    states = {s["step_id"]: s["state"] for s in route["steps"]}
    assert states == {"civil-status": "assigned", "residence": "waiting", "health-insurance": "waiting"}
    assert route["handovers"][0]["to_party"] == "UBND xã (hộ tịch)"

    deadlines = eventually(
        lambda: (d := system.get("deadline", f"/dossiers/{dossier_id}/deadlines")) and len(d) == 2 and d, what="both deadlines"
    )
    whole = next(d for d in deadlines if d["scope"] == "dossier")
    step = next(d for d in deadlines if d["scope"] == "step")
    assert datetime.fromisoformat(whole["due_at"]) == datetime.fromisoformat(dossier["appointment_at"])
    assert step["step_id"] == "civil-status" and step["budget_hours"] == 8

    notices = eventually(
        lambda: (n := system.get("notify", f"/dossiers/{dossier_id}/notices")) and n[0]["status"] == "sent" and n,
        what="the notice",
    )
    assert len(notices) == 1
    assert dossier["code"] in notices[0]["body"] and notices[0]["recipient_masked"] == "091****678"

    timeline = eventually(
        lambda: (d := system.get("intake", f"/dossiers/{dossier_id}")) and len(d["timeline"]) >= 5 and d, what="the timeline"
    )
    assert timeline["status"] == 4  # being handled
    kinds = sorted(e["kind"] for e in timeline["timeline"])
    assert kinds == ["deadline", "deadline", "notice", "received", "step_assigned"]


def test_bad_input_is_refused_with_problem_json_naming_each_field(system: System) -> None:
    response = system.http.post(
        f"{system.url('intake')}/dossiers",
        json={"procedure_code": "1.001193", "channel": 9, "applicant": {"name": "A", "phone": "12345", "citizen_id": "12"}},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"channel", "applicant.phone", "applicant.citizen_id"}

    unknown = system.http.post(f"{system.url('intake')}/dossiers", json={**BIRTH_GROUP, "procedure_code": "9.999999"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "procedure_code"


def test_every_service_reports_ready_and_exposes_metrics(system: System) -> None:
    import httpx

    for name in ("intake", "routing", "deadline", "notify"):
        ready = httpx.get(f"{system.url(name)}/readyz").json()
        assert ready == {"status": "ready", "checks": {"database": "ok", "kafka": "ok"}}
        metrics = httpx.get(f"{system.url(name)}/metrics")
        assert "motcua_outbox_relay_leader" in metrics.text


def test_a_dossier_filed_in_english_is_noticed_in_english_by_sms_and_email(system: System) -> None:
    applicant = {**BIRTH_GROUP["applicant"], "email": "lan@example.vn", "notify_channels": ["sms", "email"], "language": "en"}
    dossier = system.submit({**BIRTH_GROUP, "applicant": applicant})
    notices = eventually(
        lambda: (n := system.get("notify", f"/dossiers/{dossier['id']}/notices")) and len(n) == 2 and n, what="both notices"
    )
    by_channel = {n["channel"]: n for n in notices}
    assert {n["language"] for n in notices} == {"en"}
    assert by_channel["sms"]["body"].startswith(f"Dossier {dossier['code']} was received. Result due:")
    assert by_channel["email"]["subject"] == f"Dossier {dossier['code']} received: receipt and appointment"
    assert by_channel["email"]["body"].startswith("Dear Nguyễn Thị Lan,")
    # the notice of receipt opens the look-up: the link carries the code and the secret
    assert f"?ma={dossier['code']}&ms={dossier['lookup_secret']}" in by_channel["email"]["body"]
    assert dossier["lookup_secret"] in by_channel["sms"]["body"]
