"""Who may call deadline, with real tokens from Keycloak: each role on each route, a dossier's due
times only within the caller's units or agencies (404 otherwise, as for a dossier that does not
exist), the on-time report counting only the dossiers of a unit leader's units, and the
operator's tick refused in the future without firing anything."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from conftest import H30, PHU_LOC
from services.calendar import VN_TZ
from services.events.schemas import DossierRefused, RouteCompleted, RouteStep, StepAssigned

from .conftest import Deadline, new_id, vn

ROLES = ("counter", "counter_b", "leader", "leader_b", "specialist", "specialist_b", "operator", "nobody", "admin", None)
PERIOD = "from=2029-01-01&to=2029-03-31"
COMMUNE = RouteStep(step_id="s1", agency_code="UBND-XA", agency_name="UBND xã", budget_hours=16)
INSURANCE = RouteStep(step_id="s1", agency_code="BHXH", agency_name="Bảo hiểm xã hội", budget_hours=16)


def assigned(step: RouteStep, at: datetime) -> StepAssigned:
    return StepAssigned(
        step_id=step.step_id,
        agency_code=step.agency_code,
        agency_name=step.agency_name,
        budget_hours=step.budget_hours,
        assigned_at=at,
    )


def status_of(response: httpx.Response) -> int:
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json", response.text
    return response.status_code


@pytest.fixture(scope="module")
async def dossiers(deadline: Deadline) -> dict[str, list[str]]:
    """In January 2029: three dossiers received at H30 (one done early, one late, one running),
    each with a step at the commune (UBND-XA); two at Phú Lộc (one done on time, one refused),
    each with a step at social insurance (BHXH)."""
    made: dict[str, list[str]] = {H30: [], PHU_LOC: []}
    received = vn(2029, 1, 8, 9, 0)  # a Monday
    for unit, step, count in ((H30, COMMUNE, 3), (PHU_LOC, INSURANCE, 2)):
        for _ in range(count):
            dossier_id = new_id()
            made[unit].append(dossier_id)
            await deadline.receive(dossier_id, received, budget=16, unit=unit, route=[step])
            await deadline.publish("routing", dossier_id, assigned(step, received))
    for dossier_id in made[H30] + made[PHU_LOC]:
        deadline.deadlines(dossier_id, 2)
    early, late, _ = made[H30]
    on_time, refused = made[PHU_LOC]
    for dossier_id, done in ((early, vn(2029, 1, 8, 15, 0)), (late, vn(2029, 1, 15, 9, 0)), (on_time, vn(2029, 1, 10, 7, 45))):
        await deadline.publish("routing", dossier_id, RouteCompleted(completed_at=done))
    await deadline.publish(
        "routing", refused, DossierRefused(refused_by="BHXH", reason="Đã có thẻ", refused_at=vn(2029, 1, 9, 9, 0))
    )
    for dossier_id, state in ((early, "resolved"), (late, "resolved"), (on_time, "resolved"), (refused, "refused")):
        deadline.clock(dossier_id, lambda c, state=state: c["state"] == state)
    return made


def test_a_dossiers_due_times_and_clock_are_read_within_the_callers_units_or_agencies(
    deadline: Deadline, dossiers: dict[str, list[str]]
) -> None:
    at_h30, at_phu_loc = dossiers[H30][2], dossiers[PHU_LOC][0]
    expected = {
        # who: (H30's dossier with a commune step, Phú Lộc's with an insurance step)
        "counter": (200, 404),
        "counter_b": (404, 200),
        "leader": (200, 404),
        "leader_b": (404, 200),
        "specialist": (200, 404),  # UBND-XA
        "specialist_b": (404, 200),  # BHXH
        "admin": (200, 200),
        "operator": (403, 403),
        "nobody": (403, 403),
        None: (401, 401),
    }
    mismatches = []
    for what in ("deadlines", "clock"):
        for who, statuses in expected.items():
            got = tuple(status_of(deadline.call("GET", f"/dossiers/{d}/{what}", who)) for d in (at_h30, at_phu_loc))
            if got != statuses:
                mismatches.append(f"{who} GET /dossiers/{{id}}/{what}: {got}, expected {statuses}")
    assert not mismatches, "\n".join(mismatches)

    unknown = deadline.call("GET", f"/dossiers/{new_id()}/clock", "counter_b")
    out_of_scope = deadline.call("GET", f"/dossiers/{at_h30}/clock", "counter_b")
    assert unknown.json()["title"] == out_of_scope.json()["title"]  # nothing tells one from the other
    clock = deadline.call("GET", f"/dossiers/{at_h30}/clock", "specialist").json()
    assert clock["dossier_code"].startswith(H30)


def test_the_on_time_report_is_for_unit_leaders_and_the_province_only(deadline: Deadline, dossiers: dict[str, list[str]]) -> None:
    allowed = {"leader", "leader_b", "admin"}
    mismatches = []
    for path in (
        f"/reports/on-time?{PERIOD}",
        f"/reports/on-time?{PERIOD}&by=agency&format=csv",
        f"/reports/on-time/series?{PERIOD}",
        f"/reports/dashboard?{PERIOD}",
        f"/reports/on-time/dossiers?{PERIOD}&key={H30}&state=late",
    ):
        for who in ROLES:
            expected = 401 if who is None else 200 if who in allowed else 403
            got = status_of(deadline.call("GET", path, who))
            if got != expected:
                mismatches.append(f"{who} GET {path}: {got}, expected {expected}")
    assert not mismatches, "\n".join(mismatches)


def report(deadline: Deadline, who: str, query: str = "") -> dict[str, Any]:
    response = deadline.call("GET", f"/reports/on-time?{PERIOD}{query}", who)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_unit_leaders_report_counts_only_the_dossiers_of_their_units(
    deadline: Deadline, dossiers: dict[str, list[str]]
) -> None:
    mine = report(deadline, "leader")
    assert [r["key"] for r in mine["rows"]] == [H30]
    assert (mine["total"]["received"], mine["total"]["early"], mine["total"]["late"]) == (3, 1, 1)
    assert mine["total"]["in_progress_not_due"] + mine["total"]["in_progress_overdue"] == 1
    theirs = report(deadline, "leader_b")
    assert [r["key"] for r in theirs["rows"]] == [PHU_LOC]
    assert (theirs["total"]["received"], theirs["total"]["on_time"], theirs["total"]["refused"]) == (2, 1, 1)
    province = report(deadline, "admin")
    assert [r["key"] for r in province["rows"]] == sorted([H30, PHU_LOC]) and province["total"]["received"] == 5

    # by agency: the steps of their units' dossiers only
    assert [r["key"] for r in report(deadline, "leader", "&by=agency")["rows"]] == ["UBND-XA"]
    assert [r["key"] for r in report(deadline, "leader_b", "&by=agency")["rows"]] == ["BHXH"]
    by_procedure = report(deadline, "leader_b", "&by=procedure")
    assert by_procedure["total"]["received"] == 2

    as_csv = list(csv.DictReader(io.StringIO(deadline.call("GET", f"/reports/on-time?{PERIOD}&format=csv", "leader").text)))
    assert [r["key"] for r in as_csv] == [H30, "total"] and as_csv[-1]["received"] == "3"
    series = deadline.call("GET", f"/reports/on-time/series?{PERIOD}&bucket=month", "leader_b").json()
    assert sum(p["resolved"] for p in series) == 1
    assert sum(p["resolved"] for p in deadline.call("GET", f"/reports/on-time/series?{PERIOD}", "leader").json()) == 2
    page = deadline.call("GET", f"/reports/dashboard?{PERIOD}", "leader").text
    assert H30 in page and PHU_LOC not in page and "BHXH" not in page

    # one unit asked for: the province narrows to it; a leader may ask only for one of theirs
    assert [r["key"] for r in report(deadline, "admin", f"&unit={PHU_LOC}")["rows"]] == [PHU_LOC]
    assert report(deadline, "leader", f"&unit={H30}") == mine
    for path in ("/reports/on-time", "/reports/on-time/series", "/reports/dashboard", "/reports/on-time/dossiers"):
        refused = deadline.call("GET", f"{path}?{PERIOD}&unit={PHU_LOC}&key={PHU_LOC}&state=late", "leader")
        assert status_of(refused) == 404, path

    # the late dossiers behind a row: the leader's own, none of another unit's
    def late_ones(who: str, query: str) -> list[str]:
        response = deadline.call("GET", f"/reports/on-time/dossiers?{PERIOD}&state=late{query}", who)
        assert response.status_code == 200, response.text
        return [d["dossier_id"] for d in response.json()["dossiers"]]

    assert late_ones("leader", f"&key={H30}") == [dossiers[H30][1]] == late_ones("admin", f"&key={H30}")
    assert late_ones("leader_b", f"&key={H30}") == [] and late_ones("leader_b", "&by=agency&key=UBND-XA") == []
    assert late_ones("leader", "&by=agency&key=UBND-XA") == late_ones("admin", "&by=agency&key=UBND-XA")


def test_without_a_period_the_reports_cover_the_current_month_so_far(deadline: Deadline, dossiers: dict[str, list[str]]) -> None:
    before = datetime.now(VN_TZ).date()
    for path in (
        "/reports/dashboard",
        "/reports/on-time/series",
        "/reports/on-time?by=agency",
        f"/reports/on-time/dossiers?key={H30}&state=overdue",
    ):
        assert status_of(deadline.call("GET", path, "leader")) == 200, path
    current = report_of(deadline, "leader", "/reports/on-time")
    after = datetime.now(VN_TZ).date()
    days = (date.fromisoformat(current["period_from"]), date.fromisoformat(current["period_to"]))
    assert days in {(today.replace(day=1), today) for today in (before, after)}
    # only `to`: its month up to it
    january = report_of(deadline, "leader", "/reports/on-time?to=2029-01-20")
    assert (january["period_from"], january["period_to"]) == ("2029-01-01", "2029-01-20")
    assert january["total"]["received"] == 3


def report_of(deadline: Deadline, who: str, path: str) -> dict[str, Any]:
    response = deadline.call("GET", path, who)
    assert response.status_code == 200, response.text
    return response.json()


def test_only_the_operator_ticks_and_never_in_the_future(deadline: Deadline) -> None:
    for who in ("admin", "counter", "leader", "specialist", "nobody"):
        assert status_of(deadline.call("POST", "/admin/tick", who, json={})) == 403, who
    assert status_of(deadline.call("POST", "/admin/tick", None, json={})) == 401
    assert deadline.call("POST", "/admin/tick", "operator", json={}).status_code == 200  # now


async def test_a_tick_in_the_future_is_refused_naming_at_and_fires_no_timer(deadline: Deadline) -> None:
    dossier_id = new_id()
    # received in two days: its warnings and its overdue check fall due within the week after
    received = (datetime.now(VN_TZ) + timedelta(days=2)).replace(microsecond=0)
    await deadline.receive(dossier_id, received, budget=16, unit=H30, route=[COMMUNE])
    await deadline.publish("routing", dossier_id, assigned(COMMUNE, received))
    deadline.deadlines(dossier_id, 2)

    future = datetime.now(VN_TZ) + timedelta(days=30)
    response = deadline.call("POST", "/admin/tick", "operator", json={"at": future.isoformat()})
    assert status_of(response) == 422
    assert [e["field"] for e in response.json()["errors"]] == ["at"]
    ahead_by_skew = deadline.call(
        "POST", "/admin/tick", "operator", json={"at": (datetime.now(VN_TZ) + timedelta(seconds=2)).isoformat()}
    )
    assert ahead_by_skew.status_code == 200

    events = await deadline.events({dossier_id}, settle=2.0)
    assert {e["type"] for e in events} == {"deadline.tracked"}  # no warning, no overdue, no apology
    due_times = deadline.call("GET", f"/dossiers/{dossier_id}/deadlines", "counter").json()
    assert [d["overdue_at"] for d in due_times] == [None, None]
    clock = deadline.call("GET", f"/dossiers/{dossier_id}/clock", "counter").json()
    assert clock["state"] == "running" and clock["apologies"] == []
