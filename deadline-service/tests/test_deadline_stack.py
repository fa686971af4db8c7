"""The deadline service as real processes (two replicas) over the real Kafka broker and a real
PostgreSQL: intake's and routing's events are published to their topics, deadline's own events
are read back from its topic. Timers are driven by `POST /admin/tick` at chosen past instants (the
worker's own tick; the operator cannot tick in the future) and, for the restart, by the worker's
clock itself."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections import Counter
from datetime import datetime, time, timedelta
from typing import Any

import pytest

from services.calendar import VN_TZ
from services.events.schemas import (
    DossierRefused,
    DossierWithdrawn,
    FeePaid,
    FeeRequested,
    RouteCompleted,
    RouteStep,
    StepAssigned,
    StepCompleted,
    StepTransferred,
    SupplementReceived,
    SupplementRequested,
)
from tests.conftest import eventually

from .conftest import Deadline, new_id, vn


@pytest.fixture(scope="module")
def deadline_env(deadline_env: dict[str, str]) -> dict[str, str]:
    """The worker ticks once at start, then rarely: the operator's ticks at past instants drive the
    timers here (the worker would otherwise fire every past timer at once); the restart test
    starts replicas that tick every second."""
    return {**deadline_env, "DEADLINE_TICK_INTERVAL_MS": "3600000"}


# ---------------------------------------------------------------- due times around the holidays


async def test_step_due_times_skip_tet_30_4_2_9_24_11_and_count_a_make_up_saturday(deadline: Deadline) -> None:
    cases = {
        # assigned at → due after 8 working hours
        "tet-2027": (vn(2027, 2, 3, 14, 0), vn(2027, 2, 11, 14, 0)),  # 4–10/2/2027 off
        "30-4-2027": (vn(2027, 4, 29, 10, 0), vn(2027, 5, 4, 10, 0)),  # 30/4 Fri, 1/5 Sat → Mon 3/5 off
        "2-9-2027": (vn(2027, 9, 1, 9, 0), vn(2027, 9, 6, 9, 0)),  # 2/9 Thu and 3/9 Fri off
        "24-11-2027": (vn(2027, 11, 23, 16, 0), vn(2027, 11, 25, 16, 0)),  # Vietnam Cultural Day, Wednesday
        "make-up-saturday-2026": (vn(2026, 8, 21, 16, 0), vn(2026, 8, 22, 16, 0)),  # Saturday 22/8/2026 is worked
        "after-hours": (vn(2027, 3, 1, 18, 30), vn(2027, 3, 2, 17, 0)),  # counts from 07:30 next day
    }
    ids = {name: new_id() for name in cases}
    for name, (assigned, _) in cases.items():
        await deadline.receive(ids[name], assigned, budget=16)
        await deadline.publish(
            "routing",
            ids[name],
            StepAssigned(
                step_id="s1",
                agency_code="UBX",
                agency_name="UBND xã",
                budget_hours=8,
                assigned_at=assigned,
            ),
        )
    for name, (_, due) in cases.items():
        step = next(d for d in deadline.deadlines(ids[name], 2) if d["scope"] == "step")
        assert datetime.fromisoformat(step["due_at"]) == due, name


# ---------------------------------------------------------------- pause and resume


async def test_a_supplement_pauses_the_clock_and_moves_the_appointment(deadline: Deadline) -> None:
    keep, restart = new_id(), new_id()
    # Monday 1/3/2027 09:00, 3 working days: due Thursday 4/3 09:00
    appointment = await deadline.receive(keep, vn(2027, 3, 1, 9, 0), budget=24, rule="keep_elapsed")
    assert appointment == vn(2027, 3, 4, 9, 0)
    await deadline.receive(restart, vn(2027, 3, 1, 9, 0), budget=24, rule="restart")
    deadline.deadlines(keep, 1)
    deadline.deadlines(restart, 1)

    # the counter asks for a supplement after one working day (status 5); handed in a week later
    await deadline.publish(
        "intake", keep, SupplementRequested(requested_by="counter", items=["Tờ khai"], requested_at=vn(2027, 3, 2, 9, 0))
    )
    paused = deadline.clock(keep, lambda c: c["state"] == "paused")
    assert paused["paused_status"] == 5
    await deadline.publish("intake", keep, SupplementReceived(received_at=vn(2027, 3, 9, 9, 0), items=["Tờ khai"]))
    resumed = deadline.clock(keep, lambda c: c["state"] == "running" and c["pauses"] and c["pauses"][0]["resumed_at"])
    # 16 working hours were left: Tuesday 9/3 09:00 + 2 days
    assert datetime.fromisoformat(resumed["appointment_at"]) == vn(2027, 3, 11, 9, 0)
    pause = resumed["pauses"][0]
    assert datetime.fromisoformat(pause["old_appointment_at"]) == vn(2027, 3, 4, 9, 0)
    assert datetime.fromisoformat(pause["new_appointment_at"]) == vn(2027, 3, 11, 9, 0)

    # an agency awaits fees (status 6); with the restart rule the whole budget starts again on payment
    await deadline.publish(
        "routing",
        restart,
        FeeRequested(step_id="s1", agency_code="UBX", amount_vnd=50000, description="Lệ phí", requested_at=vn(2027, 3, 2, 9, 0)),
    )
    deadline.clock(restart, lambda c: c["state"] == "paused" and c["paused_status"] == 6)
    await deadline.publish(
        "routing", restart, FeePaid(step_id="s1", agency_code="UBX", amount_vnd=50000, paid_at=vn(2027, 3, 3, 14, 0))
    )
    again = deadline.clock(restart, lambda c: c["state"] == "running" and c["pauses"])
    assert datetime.fromisoformat(again["appointment_at"]) == vn(2027, 3, 8, 14, 0)

    events = await deadline.events({keep, restart})
    kinds = Counter((e["dossier_id"], e["type"]) for e in events)
    assert kinds[(keep, "deadline.clock_paused")] == 1 and kinds[(keep, "deadline.clock_resumed")] == 1
    resumed_event = next(e for e in events if e["dossier_id"] == keep and e["type"] == "deadline.clock_resumed")["payload"]
    assert datetime.fromisoformat(resumed_event["old_appointment_at"]) == vn(2027, 3, 4, 9, 0)
    assert datetime.fromisoformat(resumed_event["new_appointment_at"]) == vn(2027, 3, 11, 9, 0)
    assert resumed_event["rule"] == "keep_elapsed"


async def test_routing_events_read_before_the_receipt_wait_for_it(deadline: Deadline) -> None:
    """After a restart with a backlog, routing's topic can be read ahead of intake's: a dossier whose
    whole route completed before its receipt was read still ends resolved, its step closed."""
    dossier_id = new_id()
    for event in (
        StepAssigned(step_id="s1", agency_code="UBX", agency_name="UBND xã", budget_hours=8, assigned_at=vn(2027, 3, 1, 9, 30)),
        StepCompleted(step_id="s1", agency_code="UBX", officer="Cán bộ A", completed_at=vn(2027, 3, 1, 15, 0)),
        RouteCompleted(completed_at=vn(2027, 3, 1, 15, 0)),
    ):
        await deadline.publish("routing", dossier_id, event)
    await asyncio.sleep(1.5)  # read and parked
    await deadline.receive(dossier_id, vn(2027, 3, 1, 9, 0), budget=24)
    clock = deadline.clock(dossier_id, lambda c: c["state"] == "resolved")
    assert clock["outcome"] == "early"
    step = next(d for d in deadline.deadlines(dossier_id, 2) if d["scope"] == "step")
    assert (step["state"], step["outcome"]) == ("closed", "early")


async def test_the_citizens_supplement_read_before_the_agencys_request_still_resumes_the_clock(deadline: Deadline) -> None:
    """The agency's request travels on routing's topic, the citizen's answer on intake's; read in the
    wrong order, the clock must not stay paused until the result is ready."""
    dossier_id = new_id()
    await deadline.receive(dossier_id, vn(2027, 3, 1, 9, 0), budget=24, rule="keep_elapsed")
    deadline.deadlines(dossier_id, 1)
    await deadline.publish("intake", dossier_id, SupplementReceived(received_at=vn(2027, 3, 9, 9, 0), items=["Tờ khai"]))
    await asyncio.sleep(1.5)  # read first, and waits
    await deadline.publish(
        "routing",
        dossier_id,
        SupplementRequested(
            requested_by="UBX",
            step_id="s1",
            items=["Tờ khai"],
            requested_at=vn(2027, 3, 2, 9, 0),
        ),
    )
    clock = deadline.clock(dossier_id, lambda c: c["state"] == "running" and c["pauses"] and c["pauses"][0]["resumed_at"])
    assert datetime.fromisoformat(clock["appointment_at"]) == vn(2027, 3, 11, 9, 0)  # 16 working hours left on 9/3


async def test_a_route_completed_read_before_the_citizens_supplement_waits_for_it(deadline: Deadline) -> None:
    """Routing's topic read ahead of intake's: the asking step done and the route completed come
    before the supplement that made them possible; the pause still ends when the citizen answered."""
    dossier_id = new_id()
    await deadline.receive(dossier_id, vn(2027, 3, 1, 9, 0), budget=24, rule="keep_elapsed")
    for event in (
        StepAssigned(step_id="s1", agency_code="UBX", agency_name="UBND xã", budget_hours=24, assigned_at=vn(2027, 3, 1, 9, 0)),
        SupplementRequested(requested_by="UBX", step_id="s1", items=["Tờ khai"], requested_at=vn(2027, 3, 2, 9, 0)),
        StepCompleted(step_id="s1", agency_code="UBX", officer="Cán bộ A", completed_at=vn(2027, 3, 10, 9, 0)),
        RouteCompleted(completed_at=vn(2027, 3, 10, 9, 0)),
    ):
        await deadline.publish("routing", dossier_id, event)
    deadline.clock(dossier_id, lambda c: c["state"] == "paused")
    await asyncio.sleep(1.5)
    await deadline.publish("intake", dossier_id, SupplementReceived(received_at=vn(2027, 3, 9, 9, 0), items=["Tờ khai"]))
    clock = deadline.clock(dossier_id, lambda c: c["state"] == "resolved")
    pause = clock["pauses"][0]
    assert datetime.fromisoformat(pause["resumed_at"]) == vn(2027, 3, 9, 9, 0)
    assert datetime.fromisoformat(pause["new_appointment_at"]) == vn(2027, 3, 11, 9, 0)
    assert clock["outcome"] == "early"  # done on 10/3, the appointment having moved to 11/3


# ---------------------------------------------------------------- timers: exactly once, replicas, restart


async def test_a_second_agencys_request_while_the_answer_is_awaited_keeps_the_completion_waiting_for_it(
    deadline: Deadline,
) -> None:
    """Parallel branches: the commune asks for a supplement and (the answer given, read later) is
    done; the police ask too before the answer is read. The commune's completion still waits for
    the answer and closes its step then; it is not dropped by the second request."""
    dossier_id = new_id()
    commune = RouteStep(step_id="s1", agency_code="UBX", agency_name="UBND xã", budget_hours=24)
    police = RouteStep(step_id="s2", agency_code="CA", agency_name="Công an xã", budget_hours=16)
    await deadline.receive(dossier_id, vn(2027, 3, 1, 9, 0), budget=40, route=[commune, police])
    for event in (
        StepAssigned(step_id="s1", agency_code="UBX", agency_name="UBND xã", budget_hours=24, assigned_at=vn(2027, 3, 1, 9, 0)),
        StepAssigned(step_id="s2", agency_code="CA", agency_name="Công an xã", budget_hours=16, assigned_at=vn(2027, 3, 1, 9, 0)),
        SupplementRequested(requested_by="UBX", step_id="s1", items=["Tờ khai"], requested_at=vn(2027, 3, 2, 9, 0)),
        StepCompleted(step_id="s1", agency_code="UBX", officer="Cán bộ A", completed_at=vn(2027, 3, 10, 9, 0)),
        SupplementRequested(requested_by="CA", step_id="s2", items=["Sổ hộ khẩu"], requested_at=vn(2027, 3, 2, 10, 0)),
    ):
        await deadline.publish("routing", dossier_id, event)
    deadline.clock(dossier_id, lambda c: c["state"] == "paused")
    await asyncio.sleep(1.5)  # every routing event read
    await deadline.publish("intake", dossier_id, SupplementReceived(received_at=vn(2027, 3, 9, 9, 0), items=["Tờ khai"]))
    steps = eventually(
        lambda: (
            (d := deadline.deadlines(dossier_id, 3))
            and {x["step_id"]: x for x in d if x["scope"] == "step" and x["state"] == "closed"}
        ),
        what="the commune's step closed",
    )
    assert datetime.fromisoformat(steps["s1"]["completed_at"]) == vn(2027, 3, 10, 9, 0)


async def test_warnings_and_overdue_fire_once_with_two_replicas_and_across_a_restart(deadline: Deadline) -> None:
    ids = [new_id() for _ in range(6)]
    route = [RouteStep(step_id="s1", agency_code="CA", agency_name="Công an xã", budget_hours=16)]
    for dossier_id in ids:
        # Monday 8/6/2026 08:00, 2 working days, one step at the police: due Wednesday 10/6 08:00
        await deadline.receive(dossier_id, vn(2026, 6, 8, 8, 0), budget=16, route=route)
        await deadline.publish(
            "routing",
            dossier_id,
            StepAssigned(
                step_id="s1", agency_code="CA", agency_name="Công an xã", budget_hours=16, assigned_at=vn(2026, 6, 8, 8, 0)
            ),
        )
    for dossier_id in ids:
        deadline.deadlines(dossier_id, 2)
    # one step is transferred to the competent agency: the late step is theirs
    await deadline.publish(
        "routing",
        ids[0],
        StepTransferred(
            step_id="s1",
            from_agency_code="CA",
            to_agency_code="CAH",
            to_agency_name="Công an huyện",
            officer="o",
            reason="thẩm quyền",
            transferred_at=vn(2026, 6, 8, 9, 0),
        ),
    )
    eventually(
        lambda: (
            next(d for d in deadline.system.get("deadline", f"/dossiers/{ids[0]}/deadlines") if d["scope"] == "step")[
                "agency_code"
            ]
            == "CAH"
        ),
        what="the transfer",
    )
    # one is done in time: its timers never fire
    await deadline.publish(
        "routing", ids[5], StepCompleted(step_id="s1", agency_code="CA", officer="o", completed_at=vn(2026, 6, 8, 15, 0))
    )
    await deadline.publish("routing", ids[5], RouteCompleted(completed_at=vn(2026, 6, 8, 15, 30)))
    deadline.clock(ids[5], lambda c: c["state"] == "resolved")

    # 80% used = 12.8 h: Tuesday 9/6 14:18; one working day before: Tuesday 9/6 08:00
    warn_at = vn(2026, 6, 9, 16, 30)
    both = await asyncio.gather(asyncio.to_thread(deadline.tick, warn_at, 0), asyncio.to_thread(deadline.tick, warn_at, 1))
    assert sum(r["warnings"] for r in both) >= 20  # 5 dossiers × (dossier, step) × 2 thresholds, plus other tests' timers

    deadline.system.processes["deadline"][0].kill()  # SIGKILL one replica
    overdue_at = vn(2026, 6, 10, 10, 0)
    deadline.tick(overdue_at, 1)
    await asyncio.to_thread(deadline.system.start, "deadline", 0)
    again = await asyncio.gather(
        *(asyncio.to_thread(deadline.tick, t, r) for t in (warn_at, overdue_at, overdue_at + timedelta(days=3)) for r in (0, 1))
    )
    assert all(r["fired"] == 0 for r in again[:4]), again

    events = await deadline.events(set(ids))
    fired = Counter(
        (e["dossier_id"], e["type"], e["payload"].get("scope"), e["payload"].get("threshold"))
        for e in events
        if e["type"] in ("deadline.warning", "deadline.overdue", "deadline.apology_issued")
    )
    for dossier_id in ids[:5]:
        for scope in ("dossier", "step"):
            assert fired[(dossier_id, "deadline.warning", scope, "1-working-day")] == 1
            assert fired[(dossier_id, "deadline.warning", scope, "80-percent")] == 1
            assert fired[(dossier_id, "deadline.overdue", scope, None)] == 1
        assert fired[(dossier_id, "deadline.apology_issued", None, None)] == 1
    assert not any(key[0] == ids[5] for key in fired), "a dossier done in time gets no warning"
    assert set(fired.values()) == {1}

    apology = next(e["payload"] for e in events if e["dossier_id"] == ids[0] and e["type"] == "deadline.apology_issued")
    assert apology["responsible_agency_code"] == "CAH" and "Công an huyện" in apology["reason"]
    assert datetime.fromisoformat(apology["old_appointment_at"]) == vn(2026, 6, 10, 8, 0)
    assert datetime.fromisoformat(apology["new_appointment_at"]) > overdue_at
    overdue = next(
        e["payload"]
        for e in events
        if e["dossier_id"] == ids[1] and e["type"] == "deadline.overdue" and e["payload"]["scope"] == "step"
    )
    assert overdue["agency_code"] == "CA" and overdue["agency_name"] == "Công an xã"
    clock = deadline.clock(ids[0])
    assert clock["apologies"][0]["responsible_agency_code"] == "CAH"
    assert datetime.fromisoformat(clock["appointment_at"]) == datetime.fromisoformat(apology["new_appointment_at"])

    naive = deadline.call("POST", "/admin/tick", "operator", json={"at": "2026-06-10T10:00:00"})
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "at"


async def test_a_restart_fires_what_fell_due_while_the_service_was_down(deadline: Deadline) -> None:
    for process in deadline.system.processes["deadline"]:
        process.kill()
    late = new_id()
    # received and due while no replica runs (due in October 2026, before the machine's clock)
    await deadline.receive(late, vn(2026, 10, 5, 9, 0), budget=8)
    deadline.system.env = {**deadline.system.env, "DEADLINE_TICK_INTERVAL_MS": "1000"}  # the worker's own clock, every second
    await asyncio.to_thread(deadline.system.start, "deadline", 0)
    await asyncio.to_thread(deadline.system.start, "deadline", 1)

    # no operator tick: the worker's own clock finds it
    def overdue_seen() -> list[dict[str, Any]] | None:
        events = asyncio.run(deadline.events({late}, settle=1.0))
        return [e for e in events if e["type"] == "deadline.overdue"] or None

    found = await asyncio.to_thread(eventually, overdue_seen, 60, "the overdue event")
    assert len(found) == 1
    await asyncio.sleep(2.5)  # a couple more worker ticks on both replicas
    events = await deadline.events({late}, settle=1.0)
    assert Counter(e["type"] for e in events)["deadline.overdue"] == 1
    assert Counter(e["type"] for e in events)["deadline.apology_issued"] == 1


# ---------------------------------------------------------------- the report


async def test_the_on_time_report_parts_add_up_to_the_totals(deadline: Deadline) -> None:
    """January–March 2026, a period in the past, unit H99.x (procedures P1, P2; fields F1, F2; channels 1, 2)."""
    unit = "H99." + uuid.uuid4().hex[:4]
    made: dict[str, list[str]] = {}

    async def dossier(kind: str, at: datetime, **kw: Any) -> str:
        dossier_id = new_id()
        made.setdefault(kind, []).append(dossier_id)
        await deadline.receive(
            dossier_id,
            at,
            unit=unit,
            route=[RouteStep(step_id="s1", agency_code=kw.pop("agency", "A1"), agency_name="A", budget_hours=16)],
            **kw,
        )
        return dossier_id

    jan = vn(2026, 1, 12, 9, 0)  # Monday
    plan = []
    for i, kind in enumerate(["early", "early", "on_time", "late", "late", "late"]):
        plan.append(
            (
                await dossier(
                    kind, jan + timedelta(days=i % 3), budget=16, procedure="P1", field="F1", channel=1 + i % 2, online=i % 2 == 1
                ),
                kind,
            )
        )
    carried = await dossier(
        "carried_on_time", vn(2025, 12, 30, 9, 0), budget=40, procedure="P2", field="F2", channel=2, online=True
    )
    refused = await dossier("refused", jan, procedure="P2", field="F2")
    withdrawn = await dossier("withdrawn", jan, procedure="P2", field="F2")
    paused = await dossier("paused", jan, procedure="P2", field="F2", agency="A2")
    overdue = await dossier("overdue", vn(2026, 2, 3, 9, 0), budget=16, procedure="P1", field="F1", agency="A2")
    await dossier("not_due", vn(2026, 3, 30, 9, 0), budget=80, procedure="P1", field="F2", agency="A2")
    before = await dossier("finished_before_period", vn(2025, 12, 1, 9, 0), budget=16, procedure="P2", field="F2")
    all_ids = {i for ids in made.values() for i in ids}
    for dossier_id in all_ids:
        deadline.deadlines(dossier_id, 1)

    for dossier_id, kind in plan:
        clock = deadline.clock(dossier_id)
        due = datetime.fromisoformat(clock["due_at"])
        done = {"early": due - timedelta(days=1), "on_time": due - timedelta(minutes=30), "late": due + timedelta(days=1)}[kind]
        await deadline.publish("routing", dossier_id, RouteCompleted(completed_at=done))
    carried_due = datetime.fromisoformat(deadline.clock(carried)["due_at"])
    await deadline.publish("routing", carried, RouteCompleted(completed_at=carried_due))  # on time, in the period
    await deadline.publish("routing", before, RouteCompleted(completed_at=vn(2025, 12, 2, 9, 0)))
    await deadline.publish(
        "routing", refused, DossierRefused(refused_by="A1", reason="Không đủ điều kiện", refused_at=vn(2026, 1, 14, 9, 0))
    )
    await deadline.publish("intake", withdrawn, DossierWithdrawn(withdrawn_at=vn(2026, 1, 15, 9, 0)))
    await deadline.publish(
        "routing",
        paused,
        SupplementRequested(requested_by="A2", step_id="s1", items=["Bản sao"], requested_at=vn(2026, 1, 13, 9, 0)),
    )
    await deadline.publish(
        "routing",
        paused,
        StepAssigned(step_id="s1", agency_code="A2", agency_name="A", budget_hours=16, assigned_at=vn(2026, 1, 12, 9, 0)),
    )
    await deadline.publish(
        "routing",
        overdue,
        StepAssigned(step_id="s1", agency_code="A2", agency_name="A", budget_hours=16, assigned_at=vn(2026, 2, 3, 9, 0)),
    )

    def settled() -> bool:
        states = {i: deadline.system.get("deadline", f"/dossiers/{i}/clock")["state"] for i in all_ids}
        return (
            all(states[i] == "resolved" for i, _ in plan)
            and states[carried] == states[before] == "resolved"
            and states[refused] == "refused"
            and states[withdrawn] == "withdrawn"
            and states[paused] == "paused"
            and len(deadline.system.get("deadline", f"/dossiers/{overdue}/deadlines")) == 2
        )

    eventually(settled, what="every dossier in its final state")
    base = "/reports/on-time?from=2026-01-01&to=2026-03-31"
    by_unit = deadline.call("GET", f"{base}&by=unit").json()
    row = next(r for r in by_unit["rows"] if r["key"] == unit)
    assert {
        k: row[k]
        for k in (
            "received_new",
            "carried_over",
            "early",
            "on_time",
            "late",
            "in_progress_not_due",
            "in_progress_overdue",
            "paused",
            "withdrawn",
            "refused",
            "fully_online",
        )
    } == {
        "received_new": 11,
        "carried_over": 1,
        "early": 2,
        "on_time": 2,
        "late": 3,
        "in_progress_not_due": 1,
        "in_progress_overdue": 1,
        "paused": 1,
        "withdrawn": 1,
        "refused": 1,
        "fully_online": 4,
    }
    assert row["received"] == 12 and row["resolved"] == 7 and row["on_time_rate"] == round(4 / 7, 4)
    assert row["in_progress"] == 2 and row["withdrawn_or_refused"] == 2
    assert row["name"] is None  # a unit's name is the catalogue's: deadline knows its code only

    parts = ("early", "on_time", "late", "in_progress_not_due", "in_progress_overdue", "paused", "withdrawn", "refused")
    for by in ("unit", "procedure", "field", "channel", "agency"):
        report = deadline.call("GET", f"{base}&by={by}").json()
        for r in report["rows"] + [report["total"]]:
            assert r["received_new"] + r["carried_over"] == sum(r[p] for p in parts) == r["received"], (by, r)
        for column in ("received", *parts, "fully_online"):
            assert sum(r[column] for r in report["rows"]) == report["total"][column], (by, column)

    mine = deadline.call("GET", f"{base}&by=procedure").json()
    assert {r["key"] for r in mine["rows"]} >= {"P1", "P2"}
    assert {r["name"] for r in mine["rows"] if r["key"] in ("P1", "P2")} == {"Thủ tục thử"}
    by_channel = deadline.call("GET", f"{base}&by=channel").json()
    assert {r["key"]: r["name"] for r in by_channel["rows"]}["2"] == "Trực tuyến"
    by_agency = deadline.call("GET", f"{base}&by=agency").json()
    assert {r["key"]: r["name"] for r in by_agency["rows"]}["A2"] == "A"
    as_csv = list(csv.DictReader(io.StringIO(deadline.call("GET", f"{base}&by=unit&format=csv").text)))
    assert as_csv[-1]["key"] == "total" and int(as_csv[-1]["received"]) == by_unit["total"]["received"]
    assert list(as_csv[0])[:4] == ["key", "name", "received", "received_new"]
    assert int(next(r for r in as_csv if r["key"] == unit)["late"]) == 3

    dashboard = deadline.call("GET", "/reports/dashboard?from=2026-01-01&to=2026-03-31&bucket=month", replica=1)
    assert dashboard.status_code == 200 and dashboard.headers["content-type"].startswith("text/html")
    assert (
        dashboard.text.count("<svg") == 2
        and "Tỷ lệ đúng hạn" in dashboard.text
        and "http" not in dashboard.text.split("<body>")[1]
    )
    series = deadline.call("GET", f"{base.replace('/on-time?', '/on-time/series?')}&bucket=month").json()
    assert sum(p["resolved"] for p in series) == by_unit["total"]["resolved"]

    bad = deadline.call("GET", "/reports/on-time?from=2026-03-01&to=2026-01-01")
    assert (
        bad.status_code == 422
        and bad.headers["content-type"] == "application/problem+json"
        and bad.json()["errors"][0]["field"] == "to"
    )


async def test_a_period_running_into_the_future_counts_as_overdue_only_what_is_past_due_now(deadline: Deadline) -> None:
    """A report from 40 days ago to 40 days ahead, read today: a dossier due next week is not yet
    due (it was counted overdue, being due before the period's end); one past its due time is."""
    unit, agency = "H98." + uuid.uuid4().hex[:4], "AG-" + uuid.uuid4().hex[:4]
    step = RouteStep(step_id="s1", agency_code=agency, agency_name="Công an xã thử", budget_hours=16)
    now = datetime.now(VN_TZ)
    weeks_ago = datetime.combine((now - timedelta(days=20)).date(), time(9, 0), VN_TZ)
    not_due, overdue = new_id(), new_id()
    await deadline.receive(not_due, now - timedelta(hours=1), budget=40, unit=unit, route=[step])
    await deadline.receive(overdue, weeks_ago, budget=16, unit=unit, route=[step])
    await deadline.publish(
        "routing",
        overdue,
        StepAssigned(step_id="s1", agency_code=agency, agency_name="Công an xã thử", budget_hours=16, assigned_at=weeks_ago),
    )
    deadline.deadlines(not_due, 1)
    deadline.deadlines(overdue, 2)
    assert datetime.fromisoformat(deadline.clock(not_due)["due_at"]) > now

    period = f"from={(now - timedelta(days=40)).date()}&to={(now + timedelta(days=40)).date()}"
    response = deadline.call("GET", f"/reports/on-time?{period}&by=unit&unit={unit}")
    assert response.status_code == 200, response.text
    (row,) = response.json()["rows"]
    assert (row["in_progress_not_due"], row["in_progress_overdue"]) == (1, 1)
    assert row["in_progress"] == 2


async def test_the_late_and_overdue_dossiers_behind_a_row_name_the_step_and_agency_that_missed_its_due_time(
    deadline: Deadline,
) -> None:
    unit = "H97." + uuid.uuid4().hex[:4]
    commune, police = "UBX-" + uuid.uuid4().hex[:4], "CA-" + uuid.uuid4().hex[:4]
    route = [
        RouteStep(step_id="civil-status", agency_code=commune, agency_name="UBND xã thử", budget_hours=8),
        RouteStep(step_id="residence", agency_code=police, agency_name="Công an xã thử", budget_hours=8, after=["civil-status"]),
    ]
    start = datetime.combine((datetime.now(VN_TZ) - timedelta(days=21)).date(), time(9, 0), VN_TZ)
    late, overdue, early = new_id(), new_id(), new_id()
    for dossier_id in (late, overdue, early):
        await deadline.receive(dossier_id, start, budget=24, unit=unit, route=route)
        await deadline.publish(
            "routing",
            dossier_id,
            StepAssigned(
                step_id="civil-status", agency_code=commune, agency_name="UBND xã thử", budget_hours=8, assigned_at=start
            ),
        )
    for dossier_id in (late, overdue, early):
        deadline.deadlines(dossier_id, 2)

    def step_due(dossier_id: str, step_id: str) -> datetime:
        due_times = deadline.deadlines(dossier_id, 2)
        return datetime.fromisoformat(next(d["due_at"] for d in due_times if d["step_id"] == step_id))

    # the commune is on time for every dossier; the police are late with one, and still holding another past its due time
    for dossier_id in (late, overdue, early):
        done = step_due(dossier_id, "civil-status") - timedelta(hours=1)
        await deadline.publish(
            "routing", dossier_id, StepCompleted(step_id="civil-status", agency_code=commune, officer="o", completed_at=done)
        )
        await deadline.publish(
            "routing",
            dossier_id,
            StepAssigned(step_id="residence", agency_code=police, agency_name="Công an xã thử", budget_hours=8, assigned_at=done),
        )
    for dossier_id in (late, overdue, early):
        deadline.deadlines(dossier_id, 3)
    police_late = step_due(late, "residence") + timedelta(days=5)  # past the dossier's own due time too
    await deadline.publish(
        "routing", late, StepCompleted(step_id="residence", agency_code=police, officer="o", completed_at=police_late)
    )
    await deadline.publish("routing", late, RouteCompleted(completed_at=police_late))
    early_done = step_due(early, "residence") - timedelta(hours=2)
    await deadline.publish(
        "routing", early, StepCompleted(step_id="residence", agency_code=police, officer="o", completed_at=early_done)
    )
    await deadline.publish("routing", early, RouteCompleted(completed_at=early_done))
    deadline.clock(late, lambda c: c["state"] == "resolved")
    deadline.clock(early, lambda c: c["state"] == "resolved")

    now = datetime.now(VN_TZ)
    period = f"from={(now - timedelta(days=30)).date()}&to={now.date()}"
    (row,) = deadline.call("GET", f"/reports/on-time?{period}&unit={unit}").json()["rows"]
    assert (row["late"], row["in_progress_overdue"], row["early"] + row["on_time"]) == (1, 1, 1)

    listed = deadline.call("GET", f"/reports/on-time/dossiers?{period}&by=unit&key={unit}&state=late")
    assert listed.status_code == 200, listed.text
    (one,) = listed.json()["dossiers"]
    assert one["dossier_id"] == late and one["dossier_code"].startswith(unit) and one["receiving_unit"] == unit
    assert (one["step_id"], one["agency_code"], one["agency_name"]) == ("residence", police, "Công an xã thử")
    assert datetime.fromisoformat(one["resolved_at"]) == police_late
    assert datetime.fromisoformat(one["step_due_at"]) == step_due(late, "residence")
    assert [s["step_id"] for s in one["missed_steps"]] == ["residence"]  # the commune was on time

    (still,) = deadline.call("GET", f"/reports/on-time/dossiers?{period}&by=unit&key={unit}&state=overdue").json()["dossiers"]
    assert still["dossier_id"] == overdue and still["resolved_at"] is None
    assert (still["step_id"], still["agency_code"], still["step_completed_at"]) == ("residence", police, None)

    # by agency: the police's steps, named; the commune has none late
    at_police = deadline.call("GET", f"/reports/on-time/dossiers?{period}&by=agency&key={police}&state=late").json()
    assert at_police["name"] == "Công an xã thử" and [d["dossier_id"] for d in at_police["dossiers"]] == [late]
    assert at_police["dossiers"][0]["step_id"] == "residence"
    assert deadline.call("GET", f"/reports/on-time/dossiers?{period}&by=agency&key={commune}&state=late").json()["dossiers"] == []
    bad = deadline.call("GET", f"/reports/on-time/dossiers?{period}&key={unit}&state=slow")
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["query.state"]
