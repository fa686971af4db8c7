"""`make run`: the whole system on this machine, with a demo.

Starts PostgreSQL and Kafka (dev profile), the four services, submits sample dossiers and prints
each one's progress through intake, routing, deadline and notify. Ctrl-C stops everything it
started; a second run reuses the data on disk.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import time
from typing import Any

import httpx

from infra.processes import ServiceProcess, start_services
from infra.stack import PROFILES, Stack

BASE_PORT = 8001
SINK = PROFILES["dev"].root / "notices.jsonl"
# Staff endpoints need a bearer token; the demo makes one up unless the environment names one.
STAFF_TOKEN = os.environ.get("STAFF_TOKEN") or secrets.token_urlsafe(24)
ADMIN_TOKEN = os.environ.get("ADMIN_TOKEN") or secrets.token_urlsafe(24)
STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}

SAMPLES: list[dict[str, Any]] = [
    {
        "procedure_code": "1.001193",
        "channel": 1,
        "documents": [{"code": "birth-certificate"}, {"code": "interlinked-form"}],
        "applicant": {"name": "Nguyễn Thị Lan", "citizen_id": "079190001234", "phone": "0912345678", "notify_channels": ["sms"]},
    },
    {
        "procedure_code": "1.004227",
        "channel": 2,
        "documents": [{"code": "request-form"}],
        "applicant": {"name": "Trần Văn Bình", "citizen_id": "001085004321", "email": "binh.tran@example.vn", "notify_channels": ["email"]},
    },
    {
        "procedure_code": "1.001193",
        "channel": 3,
        "documents": [{"code": "birth-certificate"}, {"code": "interlinked-form"}],
        "applicant": {"name": "Lê Hoàng Nam", "citizen_id": "079092007777", "phone": "0987654321", "notify_channels": ["sms"]},
    },
]


def progress(services: dict[str, ServiceProcess], dossier_id: str) -> dict[str, Any]:
    def get(name: str, path: str) -> Any:
        response = httpx.get(f"{services[name].url}{path}", headers=STAFF, timeout=5)
        return response.json() if response.status_code == 200 else None

    dossier = get("intake", f"/dossiers/{dossier_id}") or {}
    route = get("routing", f"/dossiers/{dossier_id}/route") or {"steps": []}
    deadlines = get("deadline", f"/dossiers/{dossier_id}/deadlines") or []
    notices = get("notify", f"/dossiers/{dossier_id}/notices") or []
    return {
        "status": dossier.get("status_label", "?"),
        "steps": ", ".join(f"{s['agency_name']} ({s['state']})" for s in route["steps"] if s["state"] != "waiting") or "-",
        "deadlines": len(deadlines),
        "notices": sum(1 for n in notices if n["status"] == "sent"),
        "timeline": len(dossier.get("timeline", [])),
    }


def print_notices(submitted: dict[str, str]) -> None:
    if not SINK.exists():
        return
    for line in SINK.read_text(encoding="utf-8").splitlines():
        notice = json.loads(line)
        if notice["dossier_id"] in submitted:
            print(f"  ✉ to {notice['to']} via {notice['channel']}: {notice['body']}")


def run_demo(services: dict[str, ServiceProcess]) -> None:
    submitted: dict[str, str] = {}
    for sample in SAMPLES:
        response = httpx.post(f"{services['intake'].url}/dossiers", json=sample, headers=STAFF, timeout=10)
        response.raise_for_status()
        body = response.json()
        submitted[body["id"]] = body["code"]
        print(f"→ received {body['code']}: {body['procedure_name'][:60]} — appointment {body['appointment_at']}")
    last: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for dossier_id, code in submitted.items():
            state = progress(services, dossier_id)
            if state != last.get(dossier_id):
                last[dossier_id] = state
                print(
                    f"  {code}: intake «{state['status']}» · routing: {state['steps']} · "
                    f"deadline: {state['deadlines']} tracked · notify: {state['notices']} sent · timeline: {state['timeline']} entries"
                )
        if all(s["notices"] >= 1 and s["deadlines"] >= 2 and s["timeline"] >= 4 for s in last.values()) and len(last) == len(submitted):
            print("✓ every sample dossier went through intake, routing, deadline and notify")
            print_notices(submitted)
            return
        time.sleep(0.5)
    print("! the demo dossiers did not finish within 60 s; see .run/dev/logs/", file=sys.stderr)


def main() -> int:
    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    stack = Stack(PROFILES["dev"])
    services: dict[str, ServiceProcess] = {}
    try:
        stack.up()
        logs = stack.profile.root / "logs"
        print(f"starting intake, routing, deadline, notify (logs in {logs})")
        env = {**stack.profile.env(), "NOTIFY_SINK_PATH": str(SINK), "STAFF_TOKEN": STAFF_TOKEN, "ADMIN_TOKEN": ADMIN_TOKEN}
        services = start_services(env, logs, BASE_PORT)
        for name, process in services.items():
            print(f"  {name:9s} {process.url}/docs")
        print(f"  staff endpoints: Authorization: Bearer {STAFF_TOKEN}   operator (/admin): Bearer {ADMIN_TOKEN}")
        run_demo(services)
        print(f"notices to the console sink are kept in {SINK}")
        print("running; Ctrl-C stops everything")
        while all(p.alive() for p in services.values()):
            time.sleep(1)
        print("a service exited; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping")
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the clean-up
        for process in services.values():
            process.stop()
        stack.down()


if __name__ == "__main__":
    sys.exit(main())
