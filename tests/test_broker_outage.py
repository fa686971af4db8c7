"""The Kafka broker away for a while: the services stay ready on their database alone, intake keeps
receiving dossiers into its outbox (the backlog shows on /metrics), and once the broker is back the
backlog drains and every dossier filed meanwhile is noticed to its applicant exactly once."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path

from infra.stack import Stack
from tests.conftest import BIRTH_GROUP, System, eventually

DOSSIERS = 5


def backlog(system: System, name: str) -> float:
    text = system.http.get(f"{system.url(name)}/metrics").text
    match = re.search(r"^motcua_outbox_backlog ([0-9.e+]+)$", text, re.MULTILINE)
    assert match, "the outbox backlog is on /metrics"
    return float(match.group(1))


def test_without_the_broker_intake_stays_ready_and_its_backlog_drains_once_the_broker_is_back(
    system: System, stack: Stack
) -> None:
    eventually(lambda: backlog(system, "intake") == 0 or None, timeout=30, what="intake's outbox to be empty first")
    stack.kafka.kill()
    try:
        submitted = []
        for i in range(DOSSIERS):
            body = {**BIRTH_GROUP, "applicant": {**BIRTH_GROUP["applicant"], "phone": f"0987{i:06d}"}}
            submitted.append(system.submit(body))  # 201 each, while the broker is down

        ready = system.http.get(f"{system.url('intake')}/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ready" and ready.json()["checks"]["database"] == "ok"
        assert ready.json()["checks"]["kafka"] != "ok"  # reported, not counted against readiness
        assert backlog(system, "intake") >= DOSSIERS
        age = re.search(
            r"^motcua_outbox_oldest_unpublished_age_seconds ([0-9.e+]+)$",
            system.http.get(f"{system.url('intake')}/metrics").text,
            re.MULTILINE,
        )
        assert age and float(age.group(1)) > 0
    finally:
        stack.kafka.up()
    started = time.monotonic()

    eventually(lambda: backlog(system, "intake") == 0 or None, timeout=45, what="intake's backlog to drain")
    ours = {d["id"] for d in submitted}
    sink = Path(system.env["NOTIFY_SINK_PATH"])

    def noticed() -> Counter[str] | None:
        if not sink.exists():  # nothing noticed yet in this session
            return None
        lines = [json.loads(line) for line in sink.read_text(encoding="utf-8").splitlines() if line.strip()]
        per_dossier = Counter(line["dossier_id"] for line in lines if line["dossier_id"] in ours)
        return per_dossier if set(per_dossier) == ours else None

    eventually(noticed, timeout=max(10.0, 50 - (time.monotonic() - started)), what="every dossier to be noticed")
    time.sleep(2)  # a repeat would come within moments of the first
    assert set(noticed() or {}) == ours and set((noticed() or Counter()).values()) == {1}, "one notice per dossier"
