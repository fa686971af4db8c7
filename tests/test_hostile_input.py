"""Hostile input and access control, over the four services as real processes with their tokens set.

- Property-based fuzzing of every endpoint from each service's own OpenAPI (schemathesis): no 5xx,
  every 4xx is problem+json, 2xx bodies match their declared schema.
- Explicit cases: oversized bodies, wrong content types, Unicode edge cases, SQL-looking text.
- Access control: every role × every endpoint of every service, each with its expected status; the
  endpoint list comes from the running apps' OpenAPI, so a new endpoint without an entry fails."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from infra.processes import SERVICES
from tests.conftest import BIRTH_GROUP, System, eventually

STAFF_TOKEN = "staff-token-for-the-counter-0123"
ADMIN_TOKEN = "operator-token-0123456789abcdef"
RECEIPT_TOKEN = "sms-gateway-callback-token"
SECRETS = {"ubnd-xa": "s-ubnd", "ca-xa": "s-ca", "bhxh": "s-bhxh", "bhxh-tinh": "s-bhxh-tinh"}
CA_XA_SIGNING_KEY = "ca-xa-hmac-key"
MAX_EXAMPLES = 30


@pytest.fixture(scope="module")
def hardened(migrated: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The four services with staff, operator and callback tokens set, and agencies configured."""
    folder = tmp_path_factory.mktemp("hostile")
    agencies = folder / "agencies.json"
    lgsp_clients = folder / "lgsp_clients.json"  # intake's: the same signer as routing's agency system
    lgsp_clients.write_text(
        json.dumps({"clients": [{"client_id": "ca-xa", "name": "Công an xã", "secret_env": "T_HMAC_CA"}]}), encoding="utf-8"
    )
    agencies.write_text(
        json.dumps(
            {
                "agencies": [
                    {"code": "UBND-XA", "name": "UBND xã", "client_id": "ubnd-xa", "client_secret_env": "T_SECRET_UBND"},
                    {
                        "code": "CA-XA",
                        "name": "Công an xã",
                        "client_id": "ca-xa",
                        "client_secret_env": "T_SECRET_CA",
                        "inbound_secret_env": "T_HMAC_CA",
                    },
                    {"code": "BHXH", "name": "Bảo hiểm xã hội", "client_id": "bhxh", "client_secret_env": "T_SECRET_BHXH"},
                    {
                        "code": "BHXH-TINH",
                        "name": "BHXH tỉnh",
                        "client_id": "bhxh-tinh",
                        "client_secret_env": "T_SECRET_BHXH_TINH",
                    },
                ]
            }
        ),
        encoding="utf-8",
    )
    env = {
        **migrated,
        "STAFF_TOKEN": STAFF_TOKEN,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "NOTIFY_SMS_RECEIPT_TOKEN": RECEIPT_TOKEN,
        "ROUTING_AGENCIES_FILE": str(agencies),
        "INTAKE_LGSP_CLIENTS_FILE": str(lgsp_clients),
        "ROUTING_JWT_SECRET": "jwt-test-secret-0123456789abcdef",
        "T_SECRET_UBND": SECRETS["ubnd-xa"],
        "T_SECRET_CA": SECRETS["ca-xa"],
        "T_SECRET_BHXH": SECRETS["bhxh"],
        "T_SECRET_BHXH_TINH": SECRETS["bhxh-tinh"],
        "T_HMAC_CA": CA_XA_SIGNING_KEY,
        "INTAKE_LOOKUP_RATE_LIMIT": "100000",
        "MAX_IN_FLIGHT": "0",
    }
    system = System(env, folder / "logs")
    try:
        for name in SERVICES:
            system.start(name)
        yield system
    finally:
        system.stop_all()


STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def agency_token(system: System, client_id: str) -> str:
    response = httpx.post(
        f"{system.url('routing')}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": SECRETS[client_id]},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def lgsp_headers(raw: bytes, *, key: str = CA_XA_SIGNING_KEY, client_id: str = "ca-xa") -> dict[str, str]:
    ts, nonce = str(int(time.time())), uuid.uuid4().hex
    signature = hmac.new(key.encode(), ts.encode() + b"\n" + nonce.encode() + b"\n" + raw, hashlib.sha256).hexdigest()
    return {
        "X-Client-Id": client_id,
        "X-Timestamp": ts,
        "X-Nonce": nonce,
        "X-Signature": signature,
        "Content-Type": "application/json",
    }


def assert_problem(response: httpx.Response | Any, status: int | tuple[int, ...]) -> dict[str, Any]:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, f"{response.status_code} {response.text[:300]}"
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers["content-type"]
    problem = response.json()
    assert {"type", "title", "status"} <= problem.keys() and problem["status"] == response.status_code, problem
    return problem


@dataclass
class Dossier:
    id: str
    code: str
    secret: str


@pytest.fixture(scope="module")
def dossier(hardened: System) -> Dossier:
    """A received birth-group dossier routed to its agencies: civil status (UBND-XA) assigned, health
    insurance (BHXH) waiting."""
    response = httpx.post(f"{hardened.url('intake')}/dossiers", json=BIRTH_GROUP, headers=STAFF, timeout=10)
    assert response.status_code == 201, response.text
    body = response.json()
    eventually(
        lambda: httpx.get(f"{hardened.url('routing')}/dossiers/{body['id']}/route", headers=STAFF, timeout=5).status_code == 200,
        timeout=30,
        what="the route",
    )
    return Dossier(body["id"], body["code"], body["lookup_secret"])


# ---------------------------------------------------------------- fuzzing from the OpenAPI


def problem_on_client_error(ctx: Any, response: Any, case: Any) -> bool | None:
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith("application/problem+json"), f"{response.status_code} answered as {content_type}"
        problem = json.loads(response.content)
        assert {"type", "title", "status"} <= problem.keys(), problem
        assert problem["status"] == response.status_code
    return None


def fuzz_headers(system: System, path: str) -> dict[str, str]:
    """Credentials that get past authentication, so the fuzzing reaches each endpoint's own code."""
    if path.startswith("/agency/"):
        return {"Authorization": f"Bearer {agency_token(system, 'bhxh')}"}
    if path.startswith("/sms/"):
        return {"X-Callback-Token": RECEIPT_TOKEN}
    return OPERATOR


def fuzz(operation: Any, base: str, headers: dict[str, str]) -> Any:
    """A hypothesis test of one operation: generated requests, each answered without a server error, as documented."""

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call(base_url=base, headers=headers, timeout=15)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance, problem_on_client_error])

    return run


@pytest.mark.parametrize("service", SERVICES)
def test_fuzzing_every_endpoint_from_the_openapi_finds_no_server_error(hardened: System, dossier: Dossier, service: str) -> None:
    base = hardened.url(service)
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in ("/readyz", "/metrics"):
            continue  # no input to fuzz
        try:
            fuzz(operation, base, fuzz_headers(hardened, operation.path))()
        except (Exception, BaseExceptionGroup) as exc:  # collect every endpoint's first failure, not just the first endpoint's
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)


# ---------------------------------------------------------------- explicit hostile bodies


def submit(system: System, body: Any, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{system.url('intake')}/dossiers", json=body, headers=STAFF, timeout=30, **kwargs)


def with_name(name: str) -> dict[str, Any]:
    return {**BIRTH_GROUP, "applicant": {**BIRTH_GROUP["applicant"], "name": name}}


def test_an_oversized_body_is_refused_with_413_before_it_is_parsed(hardened: System) -> None:
    huge = with_name("Nguyễn Văn A") | {"padding": "x" * 2_000_000}
    problem = assert_problem(submit(hardened, huge), 413)
    assert problem["max_bytes"] == 1_048_576
    # without a Content-Length (chunked), the body is counted as it arrives
    chunks = (b"x" * 65536 for _ in range(40))
    chunked = httpx.post(
        f"{hardened.url('intake')}/lookup", content=chunks, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert_problem(chunked, 413)
    for service, path in (
        ("routing", "/lgsp/step-results"),
        ("intake", "/lgsp/dossiers"),
        ("notify", "/sms/delivery-receipts"),
        ("deadline", "/admin/tick"),
    ):
        response = httpx.post(
            f"{hardened.url(service)}{path}",
            content=b"[" + b"1," * 1_000_000 + b"1]",
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert_problem(response, 413)
    assert_problem(httpx.get(f"{hardened.url('intake')}/dossiers", headers=STAFF, params={"q": "x" * 101}, timeout=10), 422)


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/plain", json.dumps(BIRTH_GROUP).encode()),
        ("application/xml", b"<dossier><procedure_code>1.001193</procedure_code></dossier>"),
        ("application/x-www-form-urlencoded", b"procedure_code=1.001193&channel=1"),
        ("multipart/form-data; boundary=zzz", b'--zzz\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--zzz--\r\n'),
        ("multipart/form-data", b"garbage without a boundary"),
        ("application/json", b'{"procedure_code": '),
        ("application/json", b"\xff\xfe\x00garbage"),
        (None, b""),
    ],
)
def test_a_wrong_content_type_or_broken_body_is_a_problem_never_a_500(
    hardened: System, content_type: str | None, content: bytes
) -> None:
    headers = {**STAFF, **({"Content-Type": content_type} if content_type else {})}
    for service, path in (
        ("intake", "/dossiers"),
        ("intake", "/lookup"),
        ("routing", "/oauth/token"),
        ("deadline", "/admin/tick"),
    ):
        response = httpx.post(
            f"{hardened.url(service)}{path}",
            content=content,
            headers=headers if service != "deadline" else {**headers, **OPERATOR},
            timeout=10,
        )
        if path == "/admin/tick" and not content:
            assert response.status_code == 200  # an empty tick is "now"
        elif path == "/oauth/token" and content_type in ("application/x-www-form-urlencoded", None):
            assert_problem(response, 400)  # the right type (or none), without grant_type (RFC 6749: 400)
        else:
            assert_problem(response, (415, 422))


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Nguyễn\u0000Văn A", "a NUL byte PostgreSQL cannot store"),
        ("Nguyễn \ud800 Văn A", "an unpaired surrogate"),
        ("A" * 201, "longer than the 200 characters a name may have"),
        ("A" * 200_000, "very long"),
    ],
)
def test_unstorable_or_overlong_text_is_refused_and_nothing_is_received(hardened: System, name: str, why: str) -> None:
    before = httpx.get(f"{hardened.url('intake')}/dossiers", headers=STAFF, params={"limit": 1}, timeout=10).json()["counts"][
        "total"
    ]
    raw = json.dumps(with_name(name)).encode()  # json.dumps escapes the surrogate as \ud800, as a hostile client would send it
    response = httpx.post(
        f"{hardened.url('intake')}/dossiers", content=raw, headers={**STAFF, "Content-Type": "application/json"}, timeout=30
    )
    problem = assert_problem(response, (413, 422))
    if response.status_code == 422 and len(name) < 1000:
        assert "name" in problem.get("detail", "") or problem["type"].endswith("unstorable-value"), problem
    after = httpx.get(f"{hardened.url('intake')}/dossiers", headers=STAFF, params={"limit": 1}, timeout=10).json()["counts"][
        "total"
    ]
    assert after == before, why


@pytest.mark.parametrize(
    "name",
    [
        "Robert'); DROP TABLE intake.dossiers; --",
        "' OR '1'='1",
        "x\"; DELETE FROM routing.route_steps WHERE ''='",
        "محمد عبد الله",  # right-to-left
        "Lê 👨‍👩‍👧 Thị 🇻🇳",  # emoji with joiners and flags
        "Nguyễn Thị Lan",  # decomposed diacritics
        "\u202eA\u202c Zalgo Z̷̢̛a̴l̷g̸o̵",
    ],
)
def test_strange_but_valid_text_is_stored_and_returned_verbatim_without_effect(
    hardened: System, dossier: Dossier, name: str
) -> None:
    response = submit(hardened, with_name(name))
    assert response.status_code == 201, response.text
    dossier_id = response.json()["id"]
    found = httpx.get(f"{hardened.url('intake')}/dossiers", headers=STAFF, params={"q": name[:100]}, timeout=10)
    assert found.status_code == 200, found.text
    assert {d["id"]: d["applicant_name"] for d in found.json()["items"]}.get(dossier_id) == name.strip()
    # the text changed nothing else: other dossiers are still there and routing still routes
    assert httpx.get(f"{hardened.url('intake')}/dossiers/{dossier.id}", headers=STAFF, timeout=10).status_code == 200
    eventually(
        lambda: httpx.get(f"{hardened.url('routing')}/dossiers/{dossier_id}/route", headers=STAFF, timeout=5).status_code == 200,
        timeout=30,
        what="the route of the dossier with a strange name",
    )


def test_sql_looking_look_up_and_search_find_nothing_and_break_nothing(hardened: System, dossier: Dossier) -> None:
    lookup = f"{hardened.url('intake')}/lookup"
    for code, secret in ((f"{dossier.code}' OR '1'='1", dossier.secret), (dossier.code, "' OR '1'='1"), ("%", "%"), ("*", "_")):
        assert_problem(httpx.post(lookup, json={"code": code, "secret": secret}, timeout=10), (404, 422))
    page = httpx.get(f"{hardened.url('intake')}/dossiers", headers=STAFF, params={"q": "%' OR 1=1 --"}, timeout=10)
    assert page.status_code == 200 and page.json()["items"] == []
    assert httpx.post(lookup, json={"code": dossier.code, "secret": dossier.secret}, timeout=10).status_code == 200


def test_values_out_of_range_are_refused_naming_the_field_not_500(hardened: System) -> None:
    """Each once answered 500 (found by the fuzzing above)."""
    routing, deadline = hardened.url("routing"), hardened.url("deadline")
    for params in ({"limit": -1}, {"limit": 10**6}, {"after_id": -5}, {"after_id": 10**20}):
        problem = assert_problem(httpx.get(f"{routing}/admin/audit", params=params, headers=OPERATOR, timeout=10), 422)
        assert problem["errors"][0]["field"] == f"query.{next(iter(params))}", problem
    for path in ("/reports/on-time", "/reports/on-time/series", "/reports/dashboard"):
        problem = assert_problem(
            httpx.get(f"{deadline}{path}", params={"from": "0001-01-01", "to": "9999-12-31"}, headers=STAFF, timeout=10), 422
        )
        assert problem["errors"][0]["field"] == "from", problem
    for service, path in (
        ("intake", "/admin/dead-letters/99999999999999999999/replay"),
        ("routing", "/admin/deliveries/99999999999999999999/resend"),
    ):
        assert_problem(httpx.post(f"{hardened.url(service)}{path}", headers=OPERATOR, timeout=10), (404, 422))


# ---------------------------------------------------------------- access control: every role × every endpoint

ROLES = ("anonymous", "citizen", "counter", "agency_a", "agency_b", "lgsp", "operator", "sms_gateway")
UNKNOWN = "00000000-0000-4000-8000-000000000000"
PERIOD = {"from": "2026-01-01", "to": "2026-12-31"}


@dataclass(frozen=True)
class Rule:
    """Who may call an endpoint, and what an allowed caller gets for the request the test makes.

    access: public (anyone), lookup (the citizen's code + secret), staff (counter officers and the
    operator), operator (ADMIN_TOKEN), agency (an agency's JWT; `other_agency` is what another agency
    gets), lgsp (a signed request), token (an agency's client credentials), gateway (the SMS gateway's
    callback token)."""

    access: str
    ok: int
    other_agency: int | None = None
    dossier: str = "real"  # or "unknown": a lifecycle POST is tried on a dossier that does not exist
    body: Any = "example"  # the request body: the OpenAPI example, or this value
    query: dict[str, str] | None = None


OPERATIONS = {
    "GET /healthz": Rule("public", 200),
    "GET /readyz": Rule("public", 200),
    "GET /metrics": Rule("public", 200),
    "GET /admin/dead-letters": Rule("operator", 200),
    "POST /admin/dead-letters/{dead_letter_id}/replay": Rule("operator", 404),
}
STEP_ACTIONS = ("accept", "complete", "return", "supplement", "fee", "fee-payment", "refuse", "stop", "resume", "transfer")
TABLE: dict[str, dict[str, Rule]] = {
    "intake": {
        **OPERATIONS,
        "POST /dossiers": Rule("staff", 201),
        "GET /dossiers": Rule("staff", 200),
        "GET /dossiers/{dossier_id}": Rule("staff", 200),
        "GET /dossiers/{dossier_id}/receipt": Rule("staff", 200),
        "GET /dossiers/{dossier_id}/receipt.html": Rule("staff", 200),
        **{
            f"POST /dossiers/{{dossier_id}}/{action}": Rule("staff", 404, dossier="unknown")
            for action in ("supplement-requests", "supplements", "refusal", "withdrawal", "result-return", "rating")
        },
        "POST /lookup": Rule("lookup", 200),
        "GET /catalogue": Rule("public", 200),
        "GET /catalogue/procedures/{code}": Rule("public", 200),
        "POST /lgsp/dossiers": Rule("lgsp", 201),  # a dossier filed online elsewhere, signed
    },
    "routing": {
        **OPERATIONS,
        "GET /dossiers/{dossier_id}/route": Rule("staff", 200),
        "GET /admin/deliveries": Rule("operator", 200),
        "POST /admin/deliveries/{delivery_id}/resend": Rule("operator", 404),
        "GET /admin/portal/pushes": Rule("operator", 200),
        "POST /admin/portal/reconcile": Rule("operator", 409),  # this stack has no national portal configured
        "GET /admin/audit": Rule("operator", 200),
        "GET /admin/audit/verify": Rule("operator", 200),
        "POST /oauth/token": Rule("token", 200),
        "GET /agency/steps": Rule("agency", 200, other_agency=200),
        "GET /agency/steps/{dossier_id}/{step_id}": Rule("agency", 200, other_agency=404),
        **{
            f"POST /agency/steps/{{dossier_id}}/{{step_id}}/{action}": Rule("agency", 409, other_agency=404)
            for action in STEP_ACTIONS
        },
        "POST /lgsp/step-results": Rule("lgsp", 404),  # a signed request about a step that is not the signer's
    },
    "deadline": {
        **OPERATIONS,
        "GET /dossiers/{dossier_id}/deadlines": Rule("staff", 200),
        "GET /dossiers/{dossier_id}/clock": Rule("staff", 200),
        "POST /admin/tick": Rule("operator", 200, body={}),
        "GET /reports/on-time": Rule("staff", 200, query=PERIOD),
        "GET /reports/on-time/series": Rule("staff", 200, query=PERIOD),
        "GET /reports/dashboard": Rule("staff", 200, query=PERIOD),
    },
    "notify": {
        **OPERATIONS,
        "GET /dossiers/{dossier_id}/notices": Rule("staff", 200),
        "POST /sms/delivery-receipts": Rule("gateway", 404),  # an authentic receipt for a message id never sent
        "GET /admin/notices": Rule("operator", 200),
        "POST /admin/notices/{notice_id}/resend": Rule("operator", 404),
    },
}


def expected_status(rule: Rule, role: str) -> int:
    allowed = {
        "public": ROLES,
        "lookup": ("citizen",),
        "staff": ("counter", "operator"),
        "operator": ("operator",),
        "agency": ("agency_a",),
        "lgsp": ("lgsp",),
        "token": ("agency_a", "agency_b"),
        "gateway": ("sms_gateway",),
    }[rule.access]
    if role in allowed:
        return rule.ok
    if rule.access == "agency" and role == "agency_b":
        assert rule.other_agency is not None
        return rule.other_agency
    if rule.access == "lookup":
        return 404  # anyone without the secret learns nothing, not even that the code exists
    return 401


def example_body(spec: dict[str, Any], operation: dict[str, Any]) -> Any:
    content = operation.get("requestBody", {}).get("content", {})
    for media in content.values():
        schema = media.get("schema", {})
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        examples = schema.get("examples") or ([media["example"]] if "example" in media else None)
        if examples:
            return examples[0]
    return None


class Caller:
    def __init__(self, system: System, dossier: Dossier) -> None:
        self.system = system
        self.dossier = dossier
        self.tokens = {"agency_a": agency_token(system, "bhxh"), "agency_b": agency_token(system, "ubnd-xa")}

    def headers(self, role: str, raw: bytes) -> dict[str, str]:
        return {
            "anonymous": {},
            "citizen": {"Authorization": f"Bearer {self.dossier.secret}"},  # the look-up secret opens nothing else
            "counter": STAFF,
            "agency_a": {"Authorization": f"Bearer {self.tokens['agency_a']}"},
            "agency_b": {"Authorization": f"Bearer {self.tokens['agency_b']}"},
            "lgsp": lgsp_headers(raw),
            "operator": OPERATOR,
            "sms_gateway": {"X-Callback-Token": RECEIPT_TOKEN},
        }[role]

    def call(self, service: str, method: str, path: str, rule: Rule, spec: dict[str, Any], role: str) -> httpx.Response:
        operation = spec["paths"][path][method.lower()]
        url = path.format(
            dossier_id=self.dossier.id if rule.dossier == "real" else UNKNOWN,
            step_id="health-insurance",  # agency A's (BHXH) step, still waiting
            dead_letter_id=999999,
            delivery_id=999999,
            notice_id=UNKNOWN,
            code="1.001193",
        )
        content_type = "application/json"
        body = example_body(spec, operation) if rule.body == "example" else rule.body
        if path == "/lookup":
            body = {"code": self.dossier.code, "secret": self.dossier.secret if role == "citizen" else "WRONG123"}
        elif path == "/oauth/token":
            client = {"agency_a": "bhxh", "agency_b": "ubnd-xa"}.get(role)
            body = f"grant_type=client_credentials&client_id={client or 'intruder'}&client_secret={SECRETS.get(client or '', 'guess')}"
            content_type = "application/x-www-form-urlencoded"
        elif path == "/lgsp/dossiers":
            body = {**BIRTH_GROUP, "channel": 2}
        elif path == "/lgsp/step-results":
            body = {
                "request_id": "ac-1",
                "dossier_id": self.dossier.id,
                "step_id": "health-insurance",
                "action": "accept",
                "officer": "Đại úy Phạm Minh",
            }
        raw = b"" if body is None else body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers = {**self.headers(role, raw), **({"Content-Type": content_type} if raw else {})}
        return httpx.request(
            method, f"{self.system.url(service)}{url}", content=raw or None, headers=headers, params=rule.query, timeout=15
        )


@pytest.mark.parametrize("service", SERVICES)
def test_every_role_gets_the_expected_status_on_every_endpoint(hardened: System, dossier: Dossier, service: str) -> None:
    spec = httpx.get(f"{hardened.url(service)}/openapi.json", timeout=10).json()
    endpoints = {f"{method.upper()} {path}" for path, operations in spec["paths"].items() for method in operations}
    table = TABLE[service]
    assert endpoints - table.keys() == set(), f"endpoints of {service} missing from the access table"
    assert table.keys() - endpoints == set(), f"the access table names endpoints {service} does not have"
    caller = Caller(hardened, dossier)
    mismatches = []
    for endpoint, rule in sorted(table.items()):
        method, path = endpoint.split(" ", 1)
        for role in ROLES:
            response = caller.call(service, method, path, rule, spec, role)
            expected = expected_status(rule, role)
            if response.status_code != expected:
                mismatches.append(f"{role:11s} {endpoint}: {response.status_code} (expected {expected}) {response.text[:160]}")
            elif response.status_code >= 400:
                assert_problem(response, expected)
    assert not mismatches, "\n".join(mismatches)
