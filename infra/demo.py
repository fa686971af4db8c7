"""`make run`: the whole system on this machine, with a demo.

Starts PostgreSQL and Kafka (dev profile) and the four services, then plays a day at a one-stop
counter: sample dossiers are received, the agencies on their routes take on and complete their
steps over routing's REST API (one agency asks the citizen for a supplement first), results are
returned at the counter, and each dossier's progress through intake, routing, deadline and notify
is printed as it happens. Ctrl-C stops everything it started; a second run reuses the data on disk.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import time
import uuid
from typing import Any

import httpx

from infra.processes import ServiceProcess, start_services
from infra.stack import PROFILES, REPO, Stack

BASE_PORT = 8001
SINK = PROFILES["dev"].root / "notices.jsonl"
AGENCIES = json.loads((REPO / "routing-service" / "agencies.json").read_text(encoding="utf-8"))["agencies"]
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
        "applicant": {
            "name": "Trần Văn Bình",
            "citizen_id": "001085004321",
            "email": "binh.tran@example.vn",
            "notify_channels": ["email"],
        },
    },
    {
        "procedure_code": "1.001193",
        "channel": 3,
        "documents": [{"code": "birth-certificate"}, {"code": "interlinked-form"}],
        "applicant": {"name": "Lê Hoàng Nam", "citizen_id": "079088007777", "phone": "0987654321", "notify_channels": ["sms"]},
    },
]


def demo_env(stack: Stack) -> dict[str, str]:
    """Local-only secrets for the demo's agencies, generated afresh each run."""
    env = {
        **stack.profile.env(),
        "NOTIFY_SINK_PATH": str(SINK),
        "ROUTING_JWT_SECRET": secrets.token_hex(32),
        "STAFF_TOKEN": STAFF_TOKEN,
        "ADMIN_TOKEN": ADMIN_TOKEN,
    }
    for agency in AGENCIES:
        env[agency["client_secret_env"]] = secrets.token_hex(16)
    return env


class Agency:
    """An agency's officer at work, through routing's OAuth2-protected REST API."""

    def __init__(self, routing: str, client_id: str, client_secret: str) -> None:
        self.routing = routing
        token = httpx.post(
            f"{routing}/oauth/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
            timeout=10,
        )
        token.raise_for_status()
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def inbox(self) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.routing}/agency/steps", params={"state": ["assigned", "accepted"]}, headers=self.headers, timeout=10
        )
        response.raise_for_status()
        return response.json()["items"]

    def act(self, step: dict[str, Any], action: str, body: dict[str, Any]) -> int:
        url = f"{self.routing}/agency/steps/{step['dossier_id']}/{step['step_id']}/{action}"
        return httpx.post(url, json={"officer": "Cán bộ một cửa", **body}, headers=self.headers, timeout=10).status_code


def summary(services: dict[str, ServiceProcess], dossier_id: str) -> dict[str, Any]:
    def get(name: str, path: str) -> Any:
        response = httpx.get(f"{services[name].url}{path}", headers=STAFF, timeout=5)
        return response.json() if response.status_code == 200 else None

    dossier = get("intake", f"/dossiers/{dossier_id}") or {}
    route = get("routing", f"/dossiers/{dossier_id}/route") or {"steps": []}
    deadlines = get("deadline", f"/dossiers/{dossier_id}/deadlines") or []
    notices = get("notify", f"/dossiers/{dossier_id}/notices") or []
    return {
        "status": dossier.get("status", 0),
        "label": dossier.get("status_label", "?"),
        "steps": ", ".join(f"{s['step_id']}:{s['state']}" for s in route["steps"]) or "-",
        "deadlines": ", ".join(f"{d.get('step_id') or 'hồ sơ'}:{d.get('state', '?')}" for d in deadlines) or "-",
        "notices": sum(1 for n in notices if n["status"] in ("sent", "delivered")),
    }


def run_demo(services: dict[str, ServiceProcess], env: dict[str, str]) -> None:
    intake, routing = services["intake"].url, services["routing"].url
    submitted: dict[str, str] = {}
    for sample in SAMPLES:
        response = httpx.post(
            f"{intake}/dossiers", json=sample, headers={**STAFF, "Idempotency-Key": str(uuid.uuid4())}, timeout=10
        )
        if response.status_code != 201:
            print(f"! intake refused a sample dossier: {response.text}", file=sys.stderr)
            continue
        body = response.json()
        submitted[body["id"]] = body["code"]
        print(f"→ received {body['code']} — {body['procedure_name'][:70]}; appointment {body['appointment_at']}")
    agencies = {a["code"]: Agency(routing, a["client_id"], env[a["client_secret_env"]]) for a in AGENCIES}
    supplement_asked: set[str] = set()
    returned: set[str] = set()
    last: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(returned) < len(submitted):
        for code, agency in agencies.items():
            for step in agency.inbox():
                if step["dossier_id"] not in submitted:
                    continue
                if step["state"] == "assigned":
                    agency.act(step, "accept", {})
                elif step["step_id"] == "residence" and step["dossier_id"] not in supplement_asked:
                    supplement_asked.add(step["dossier_id"])
                    agency.act(
                        step, "supplement", {"items": ["Bản sao sổ hộ khẩu của người mẹ"], "reason": "Thiếu giấy tờ cư trú"}
                    )
                    print(f"  {code} asks the citizen of {submitted[step['dossier_id']]} for a supplement")
                else:
                    agency.act(
                        step,
                        "complete",
                        {"result_documents": [f"doc://{step['step_id']}/{step['dossier_code']}"], "note": "Đã giải quyết"},
                    )
        for dossier_id, code in submitted.items():
            state = summary(services, dossier_id)
            if state["status"] == 5 and dossier_id in supplement_asked:
                httpx.post(
                    f"{intake}/dossiers/{dossier_id}/supplements",
                    json={"items": ["Bản sao sổ hộ khẩu của người mẹ"]},
                    headers=STAFF,
                    timeout=10,
                )
            if state["status"] == 9 and dossier_id not in returned:
                if (
                    httpx.post(
                        f"{intake}/dossiers/{dossier_id}/result-return", json={"method": "counter"}, headers=STAFF, timeout=10
                    ).status_code
                    == 200
                ):
                    returned.add(dossier_id)
            if state != last.get(dossier_id):
                last[dossier_id] = state
                print(
                    f"  {code}: intake «{state['label']}» · routing {state['steps']} · "
                    f"deadline {state['deadlines']} · notify {state['notices']} sent"
                )
        time.sleep(0.7)
    time.sleep(3)  # the last notices
    for dossier_id, code in submitted.items():
        state = summary(services, dossier_id)
        print(f"  {code}: intake «{state['label']}» · notify {state['notices']} sent")
    if len(returned) == len(submitted):
        print("✓ every sample dossier went from receipt through every agency to the result returned at the counter")
    else:
        print("! some sample dossiers did not finish within 120 s; see .run/dev/logs/", file=sys.stderr)
    print_notices(submitted)


def print_notices(submitted: dict[str, str]) -> None:
    if not SINK.exists():
        return
    for line in SINK.read_text(encoding="utf-8").splitlines():
        notice = json.loads(line)
        if notice["dossier_id"] in submitted:
            print(f"  ✉ to {notice['to']} via {notice['channel']}: {' '.join(notice['body'].split())[:160]}")


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
        env = demo_env(stack)
        services = start_services(env, logs, BASE_PORT)
        for name, process in services.items():
            print(f"  {name:9s} {process.url}/docs")
        print(f"  staff endpoints: Authorization: Bearer {STAFF_TOKEN}   operator (/admin): Bearer {ADMIN_TOKEN}")
        run_demo(services, env)
        print(f"notices to the console sink are kept in {SINK}")
        print(f"on-time report: {services['deadline'].url}/reports/dashboard")
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
