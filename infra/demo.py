"""`make run`: the whole system on this machine, with a demo.

Starts PostgreSQL, Kafka and Keycloak (dev profile) and the four services, then plays a day at a
one-stop counter, every act through an identity Keycloak signs in: the counter officer receives
sample dossiers (the provincial portal files an online one), the agencies on their routes take on
and complete their steps over routing's REST API (UBND xã's specialist by hand, the others' systems
by client credentials; one asks the citizen for a supplement first), results are returned at the
counter, and each dossier's progress through intake, routing, deadline and notify is printed as the
province administrator sees it. It ends by printing how to sign in as each demo role and the agency
systems' client ids and secrets. Ctrl-C stops everything it started; a second run reuses the data on
disk (the demo officers' passwords are new each run).
"""

from __future__ import annotations

import json
import secrets
import signal
import sys
import time
import uuid
from dataclasses import replace
from typing import Any

import httpx

from infra.identity import CLI_CLIENT, KeycloakAdmin, Officer, SignIns, TokenAuth
from infra.processes import ServiceProcess, console_env, start_console, start_services
from infra.stack import PROFILES, REPO, Stack

BASE_PORT = 8001
CONSOLE_PORT = 8005
SINK = PROFILES["dev"].root / "notices.jsonl"
AGENCIES = json.loads((REPO / "routing-service" / "agencies.json").read_text(encoding="utf-8"))["agencies"]
H30, PHU_LOC = "000.00.00.H30", "000.01.30.H30"

# The demo's officers, one per role; their passwords are made afresh each run and printed at the end.
DEMO_OFFICERS = {
    "counter": Officer("tiepnhan.tinh", "Nguyễn Thị Hoa", ("counter-officer",), units=(H30,)),
    "counter_commune": Officer("tiepnhan.phuloc", "Trần Văn Đức", ("counter-officer",), units=(PHU_LOC,)),
    "specialist": Officer("chuyenvien.ubndxa", "Lê Thị Mai", ("specialist",), agencies=("UBND-XA",)),
    "specialist_police": Officer("canbo.congan", "Phan Minh Tuấn", ("specialist",), agencies=("CA-XA",)),
    "specialist_insurance": Officer("chuyenvien.bhxh", "Võ Thị Thu", ("specialist",), agencies=("BHXH",)),
    "leader": Officer("lanhdao.tinh", "Hoàng Văn Sơn", ("unit-leader",), units=(H30,)),
    "admin": Officer("quantri.tinh", "Đặng Thu Hà", ("province-admin",)),
    "operator": Officer("vanhanh", "Bùi Quang Vinh", ("operator",)),
}
ROLE_LABELS = {
    "counter": "counter officer, provincial centre",
    "counter_commune": "counter officer, Phú Lộc commune",
    "specialist": "specialist, UBND xã",
    "specialist_police": "officer, Công an xã",
    "specialist_insurance": "specialist, Bảo hiểm xã hội",
    "leader": "unit leader, provincial centre",
    "admin": "province administrator",
    "operator": "operator (/du-lieu-ca-nhan, /admin)",
}
PORTAL_CLIENT = "cong-dvc-tinh"
LOOKUP_PATH = "/tra-cuu?ma={code}&ms={secret}"

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


class Identities(SignIns):
    """The demo's officers, with passwords made for this run, and the agency systems."""

    def __init__(self, stack: Stack) -> None:
        officers = {key: replace(o, password=secrets.token_urlsafe(12)) for key, o in DEMO_OFFICERS.items()}
        super().__init__(KeycloakAdmin.of(stack.profile), officers)


class Agency:
    """An agency at work through routing's REST API: its specialist signed in, or its own system."""

    def __init__(self, routing: str, auth: TokenAuth) -> None:
        self.routing = routing
        self.http = httpx.Client(auth=auth, timeout=10)

    def inbox(self) -> list[dict[str, Any]]:
        response = self.http.get(f"{self.routing}/agency/steps", params={"state": ["assigned", "accepted"]})
        response.raise_for_status()
        return list(response.json()["items"])

    def act(self, step: dict[str, Any], action: str, body: dict[str, Any]) -> int:
        url = f"{self.routing}/agency/steps/{step['dossier_id']}/{step['step_id']}/{action}"
        return self.http.post(url, json=body).status_code


def summary(services: dict[str, ServiceProcess], dossier_id: str, auth: TokenAuth) -> dict[str, Any]:
    def get(name: str, path: str) -> Any:
        response = httpx.get(f"{services[name].url}{path}", auth=auth, timeout=5)
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


def run_demo(services: dict[str, ServiceProcess], ids: Identities) -> None:
    intake, routing = services["intake"].url, services["routing"].url
    counter = httpx.Client(auth=ids.auth("counter"), timeout=10)
    viewer = ids.auth("admin")
    submitted: dict[str, str] = {}
    for sample in SAMPLES:
        online = sample["channel"] == 2
        response = httpx.post(
            f"{intake}/dossiers",
            json=sample,
            headers={"Idempotency-Key": str(uuid.uuid4())},
            auth=ids.auth(PORTAL_CLIENT) if online else ids.auth("counter"),
            timeout=10,
        )
        if response.status_code != 201:
            print(f"! intake refused a sample dossier: {response.text}", file=sys.stderr)
            continue
        body = response.json()
        submitted[body["id"]] = body["code"]
        by = "filed online through the provincial portal" if online else f"received by {ids.officers['counter'].name}"
        print(f"→ {body['code']} {by} — {body['procedure_name'][:60]}; appointment {body['appointment_at']}")
    # UBND xã's steps are handled by its specialist by hand; the other agencies' by their own systems.
    agencies = {
        a["code"]: Agency(routing, ids.auth("specialist") if a["code"] == "UBND-XA" else ids.auth(a["client_id"]))
        for a in AGENCIES
    }
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
            state = summary(services, dossier_id, viewer)
            if state["status"] == 5 and dossier_id in supplement_asked:
                counter.post(f"{intake}/dossiers/{dossier_id}/supplements", json={"items": ["Bản sao sổ hộ khẩu của người mẹ"]})
            if state["status"] == 9 and dossier_id not in returned:
                if counter.post(f"{intake}/dossiers/{dossier_id}/result-return", json={"method": "counter"}).status_code == 200:
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
        state = summary(services, dossier_id, viewer)
        print(f"  {code}: intake «{state['label']}» · notify {state['notices']} sent")
    if len(returned) == len(submitted):
        print("✓ every sample dossier went from receipt through every agency to the result returned at the counter")
    else:
        print("! some sample dossiers did not finish within 120 s; see .run/dev/logs/", file=sys.stderr)
    print_notices(submitted)


def print_sign_in(stack: Stack, ids: Identities, services: dict[str, ServiceProcess]) -> None:
    issuer = stack.profile.issuer
    print("\nsign in (Keycloak, realm motcua):")
    print(f"  an officer's token:  curl -s -d grant_type=password -d client_id={CLI_CLIENT} -d username=USER -d password=PASS \\")
    print(f"                         {issuer}/protocol/openid-connect/token")
    print("  then call a service with:  Authorization: Bearer <access_token>")
    for key, officer in ids.officers.items():
        print(f"  {ROLE_LABELS[key]:36s} user {officer.username:18s} password {officer.password}")
    print("agency systems (client credentials, grant_type=client_credentials, HTTP Basic client id:secret):")
    for agency in AGENCIES:
        print(f"  {agency['code']:10s} client {agency['client_id']:13s} secret {ids.secret(agency['client_id'])}")
    print(f"  {'portal':10s} client {PORTAL_CLIENT:13s} secret {ids.secret(PORTAL_CLIENT)}")
    print(f"  {'LGSP':10s} client {'lgsp-tinh':13s} secret {ids.secret('lgsp-tinh')}")
    keycloak = stack.keycloak
    print(f"Keycloak's console: {stack.profile.keycloak_url}/admin/  user {keycloak.ADMIN}, password in {keycloak.password_file}")
    print(f"the services' API documents: {', '.join(f'{p.url}/docs' for n, p in services.items() if n != 'web')}")


def print_notices(submitted: dict[str, str]) -> None:
    if not SINK.exists():
        return
    for line in SINK.read_text(encoding="utf-8").splitlines():
        notice = json.loads(line)
        if notice["dossier_id"] in submitted:
            print(f"  ✉ to {notice['to']} via {notice['channel']}: {' '.join(notice['body'].split())[:160]}")


PHASES = 5


def phase(number: int, what: str) -> None:
    """Say which of the demo's phases starts now, so someone watching `make run` knows where it is."""
    print(f"[demo] {number}/{PHASES} {what}", flush=True)


def main() -> int:
    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    stack = Stack(PROFILES["dev"])
    services: dict[str, ServiceProcess] = {}
    try:
        phase(1, "starting PostgreSQL, Kafka and Keycloak (the first start takes a minute or two)")
        stack.up()
        phase(2, "creating Kafka's topics and each service's access to them")
        stack.kafka.provision("motcua")  # the default TOPIC_PREFIX: its topics, and each service's ACLs on them
        logs = stack.profile.root / "logs"
        phase(3, f"starting intake, routing, deadline, notify and the web console (logs in {logs})")
        ids = Identities(stack)
        console_url = f"http://127.0.0.1:{CONSOLE_PORT}"
        env = {
            **stack.profile.env(),
            "NOTIFY_SINK_PATH": str(SINK),
            "NOTIFY_LOOKUP_URL": f"{console_url}{LOOKUP_PATH}",  # the SMS and e-mail link open the console's look-up
            "INTAKE_PUBLIC_BASE_URL": console_url,
            "INTAKE_TRUSTED_PROXIES": "127.0.0.1",  # the console passes on each citizen's address for the look-up limit
        }
        services = start_services(env, logs, BASE_PORT)
        for name, process in services.items():
            print(f"  {name:9s} {process.url}/docs")
        urls = {name: process.url for name, process in services.items()}
        services["web"] = start_console(
            console_env(env, urls, CONSOLE_PORT, stack.profile.web_session_key()), CONSOLE_PORT, logs / "web.log"
        )
        phase(4, f"filing {len(SAMPLES)} sample dossiers and taking each through every agency")
        run_demo(services, ids)
        phase(5, "ready")
        print(f"notices to the console sink are kept in {SINK}")
        print_sign_in(stack, ids, services)
        print(
            f"\nthe web console: {console_url}  (officers sign in with the users above; citizens look up at {console_url}/tra-cuu)"
        )
        print(f"  on-time statistics: {console_url}/thong-ke  (as the unit leader or the province administrator)")
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
