"""SIGKILL services mid-flow, restart them: no dossier lost, nothing applied or sent twice.
Two replicas of routing share its consumer group throughout."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path

from tests.conftest import BIRTH_GROUP, System, eventually

DOSSIERS = 60


def test_killing_services_mid_flow_loses_nothing_and_duplicates_nothing(system: System) -> None:
    system.start("routing")  # a second replica in the same consumer group
    submitted: list[dict[str, str]] = []
    failures: list[str] = []

    def submit_all() -> None:
        for i in range(DOSSIERS):
            body = {**BIRTH_GROUP, "applicant": {**BIRTH_GROUP["applicant"], "phone": f"09{i:08d}"}}
            try:
                submitted.append(system.submit(body))
            except Exception as exc:  # intake is never killed here: any failure is a bug
                failures.append(repr(exc))
            time.sleep(0.05)

    writer = threading.Thread(target=submit_all)
    writer.start()
    time.sleep(0.8)
    system.processes["notify"][0].kill()
    system.processes["routing"][0].kill()
    time.sleep(1.0)
    system.processes["deadline"][0].kill()
    system.start("notify", replica=0)
    system.start("routing", replica=0)
    system.start("deadline", replica=0)
    time.sleep(0.5)
    system.processes["notify"][0].kill()  # again, while it catches up
    system.start("notify", replica=0)
    writer.join()
    assert not failures and len(submitted) == DOSSIERS

    def all_done() -> bool:
        for dossier in submitted:
            notices = system.get("notify", f"/dossiers/{dossier['id']}/notices") or []
            deadlines = system.get("deadline", f"/dossiers/{dossier['id']}/deadlines") or []
            if not (notices and notices[0]["status"] == "sent" and len(deadlines) == 2):
                return False
        return True

    eventually(all_done, timeout=120, what="every dossier to be routed, tracked and noticed")

    for dossier in submitted:
        route = system.get("routing", f"/dossiers/{dossier['id']}/route")
        assert [h["step_id"] for h in route["handovers"]] == ["civil-status"], "one handover, however often the event came"
        notices = system.get("notify", f"/dossiers/{dossier['id']}/notices")
        assert len(notices) == 1
    sink = Path(system.env["NOTIFY_SINK_PATH"])
    lines = [json.loads(line) for line in sink.read_text(encoding="utf-8").splitlines()]
    ours = {d["id"] for d in submitted}
    per_dossier = Counter(line["dossier_id"] for line in lines if line["dossier_id"] in ours)
    assert set(per_dossier) == ours and set(per_dossier.values()) == {1}, "exactly one notice delivered per dossier"

    def timelines_complete() -> bool:
        for dossier in submitted:
            timeline = system.get("intake", f"/dossiers/{dossier['id']}")["timeline"]
            if len(timeline) < 5:
                return False
        return True

    eventually(timelines_complete, timeout=60, what="intake's timelines")
    for dossier in submitted:
        kinds = Counter(e["kind"] for e in system.get("intake", f"/dossiers/{dossier['id']}")["timeline"])
        assert kinds == {"received": 1, "step_assigned": 1, "deadline": 2, "notice": 1}

    for name in ("intake", "routing", "deadline", "notify"):
        assert system.http.get(f"{system.url(name)}/admin/dead-letters").json() == []
