"""Hostile input and access control, over the four services as real processes trusting the test
Keycloak.

- Property-based fuzzing of every endpoint from each service's own OpenAPI (schemathesis): no 5xx,
  every 4xx is problem+json, 2xx bodies match their declared schema.
- Explicit cases: oversized bodies, wrong content types, Unicode edge cases, SQL-looking text.
- Access control: every kind of caller (each role's real Keycloak token, the agencies' systems, the
  LGSP, the portal, a citizen with a receipt's secret, the SMS gateway, nobody) × every endpoint of
  every service, each with its expected status; the endpoint list comes from the running apps'
  OpenAPI, so a new endpoint without an entry fails."""

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

from conftest import H30, Identities
from infra.processes import SERVICES
from tests.conftest import BIRTH_GROUP, System, eventually, running

RECEIPT_TOKEN = "sms-gateway-callback-token"
CA_XA_SIGNING_KEY = "ca-xa-hmac-key"
MAX_EXAMPLES = 30


@pytest.fixture(scope="module")
def hardened(migrated: dict[str, str], identities: Identities, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The four services with the SMS gateway's callback secret set and agencies configured."""
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
                    {"code": "UBND-XA", "name": "UBND xã", "client_id": "ubnd-xa"},
                    {"code": "CA-XA", "name": "Công an xã", "client_id": "ca-xa", "inbound_secret_env": "T_HMAC_CA"},
                    {"code": "BHXH", "name": "Bảo hiểm xã hội", "client_id": "bhxh"},
                    {"code": "BHXH-TINH", "name": "BHXH tỉnh", "client_id": "bhxh-tinh"},
                ]
            }
        ),
        encoding="utf-8",
    )
    env = {
        **migrated,
        "NOTIFY_SMS_RECEIPT_TOKEN": RECEIPT_TOKEN,
        "ROUTING_AGENCIES_FILE": str(agencies),
        "INTAKE_LGSP_CLIENTS_FILE": str(lgsp_clients),
        "T_HMAC_CA": CA_XA_SIGNING_KEY,
        "INTAKE_LOOKUP_RATE_LIMIT": "100000",
        "MAX_IN_FLIGHT": "0",
    }
    with running(env, folder / "logs", identities) as system:
        yield system


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
    response = httpx.post(f"{hardened.url('intake')}/dossiers", json=BIRTH_GROUP, headers=hardened.headers("counter"), timeout=10)
    assert response.status_code == 201, response.text
    body = response.json()
    eventually(
        lambda: hardened.http.get(f"{hardened.url('routing')}/dossiers/{body['id']}/route", timeout=5).status_code == 200,
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
        return system.headers("bhxh")
    if path.startswith("/sms/"):
        return {"X-Callback-Token": RECEIPT_TOKEN}
    if path.startswith("/lgsp/"):
        return system.headers("lgsp-tinh")
    return system.headers("all")


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
    return system.http.post(f"{system.url('intake')}/dossiers", json=body, timeout=30, **kwargs)


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
    assert_problem(hardened.http.get(f"{hardened.url('intake')}/dossiers", params={"q": "x" * 101}, timeout=10), 422)


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
    headers = {**hardened.headers("all"), **({"Content-Type": content_type} if content_type else {})}
    for service, path in (
        ("intake", "/dossiers"),
        ("intake", "/lookup"),
        ("deadline", "/admin/tick"),
    ):
        response = httpx.post(f"{hardened.url(service)}{path}", content=content, headers=headers, timeout=10)
        if path == "/admin/tick" and not content:
            assert response.status_code == 200  # an empty tick is "now"
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
    before = hardened.http.get(f"{hardened.url('intake')}/dossiers", params={"limit": 1}, timeout=10).json()["counts"]["total"]
    raw = json.dumps(with_name(name)).encode()  # json.dumps escapes the surrogate as \ud800, as a hostile client would send it
    response = hardened.http.post(
        f"{hardened.url('intake')}/dossiers", content=raw, headers={"Content-Type": "application/json"}, timeout=30
    )
    problem = assert_problem(response, (413, 422))
    if response.status_code == 422 and len(name) < 1000:
        assert "name" in problem.get("detail", "") or problem["type"].endswith("unstorable-value"), problem
    after = hardened.http.get(f"{hardened.url('intake')}/dossiers", params={"limit": 1}, timeout=10).json()["counts"]["total"]
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
    found = hardened.http.get(f"{hardened.url('intake')}/dossiers", params={"q": name[:100]}, timeout=10)
    assert found.status_code == 200, found.text
    assert {d["id"]: d["applicant_name"] for d in found.json()["items"]}.get(dossier_id) == name.strip()
    # the text changed nothing else: other dossiers are still there and routing still routes
    assert hardened.http.get(f"{hardened.url('intake')}/dossiers/{dossier.id}", timeout=10).status_code == 200
    eventually(
        lambda: hardened.http.get(f"{hardened.url('routing')}/dossiers/{dossier_id}/route", timeout=5).status_code == 200,
        timeout=30,
        what="the route of the dossier with a strange name",
    )


def test_sql_looking_look_up_and_search_find_nothing_and_break_nothing(hardened: System, dossier: Dossier) -> None:
    lookup = f"{hardened.url('intake')}/lookup"
    for code, secret in ((f"{dossier.code}' OR '1'='1", dossier.secret), (dossier.code, "' OR '1'='1"), ("%", "%"), ("*", "_")):
        assert_problem(httpx.post(lookup, json={"code": code, "secret": secret}, timeout=10), (404, 422))
    page = hardened.http.get(f"{hardened.url('intake')}/dossiers", params={"q": "%' OR 1=1 --"}, timeout=10)
    assert page.status_code == 200 and page.json()["items"] == []
    assert httpx.post(lookup, json={"code": dossier.code, "secret": dossier.secret}, timeout=10).status_code == 200


def test_values_out_of_range_are_refused_naming_the_field_not_500(hardened: System) -> None:
    """Each once answered 500 (found by the fuzzing above)."""
    routing, deadline = hardened.url("routing"), hardened.url("deadline")
    for params in ({"limit": -1}, {"limit": 10**6}, {"after_id": -5}, {"after_id": 10**20}):
        problem = assert_problem(hardened.http.get(f"{routing}/admin/audit", params=params, timeout=10), 422)
        assert problem["errors"][0]["field"] == f"query.{next(iter(params))}", problem
    for path in ("/reports/on-time", "/reports/on-time/series", "/reports/dashboard"):
        problem = assert_problem(
            hardened.http.get(f"{deadline}{path}", params={"from": "0001-01-01", "to": "9999-12-31"}, timeout=10), 422
        )
        assert problem["errors"][0]["field"] == "from", problem
    for service, path in (
        ("intake", "/admin/dead-letters/99999999999999999999/replay"),
        ("routing", "/admin/deliveries/99999999999999999999/resend"),
    ):
        assert_problem(hardened.http.post(f"{hardened.url(service)}{path}", timeout=10), (404, 422))


# ---------------------------------------------------------------- access control: every role × every endpoint

# Who calls: with no credential; as a citizen (the receipt's secret as if it were a token); as each
# test officer (see the root conftest: counter and leader serve the H30 centre, counter_b Phú Lộc,
# specialist is UBND-XA's); as the agencies' systems BHXH (agency_a) and UBND-XA (agency_b), the
# LGSP, the provincial portal (client credentials); and as the SMS gateway (its callback secret).
CALLERS = {
    "anonymous": None,
    "citizen": None,
    "counter": "counter",
    "counter_b": "counter_b",
    "leader": "leader",
    "specialist": "specialist",
    "agency_a": "bhxh",
    "agency_b": "ubnd-xa",
    "lgsp": "lgsp-tinh",
    "portal": "cong-dvc-tinh",
    "admin": "admin",
    "operator": "operator",
    "nobody": "nobody",
    "sms_gateway": None,
}
UNKNOWN = "00000000-0000-4000-8000-000000000000"
PERIOD = {"from": "2026-01-01", "to": "2026-12-31"}
PUBLIC = dict.fromkeys(CALLERS, 200)


@dataclass(frozen=True)
class Rule:
    """What each caller gets for the request the test makes: `allowed` maps callers to their status;
    any other caller with a token gets 403, and one without (anonymous, citizen, the gateway) 401.

    dossier: "real" (the module's H30 birth-group dossier, routed: civil status assigned to UBND-XA,
    health insurance waiting at BHXH) or "unknown"; body: the OpenAPI example or this value."""

    allowed: dict[str, int]
    dossier: str = "real"
    body: Any = "example"
    query: dict[str, str] | None = None
    others: int | None = None  # the status of every caller not in `allowed`, when not 401/403


def only(**allowed: int) -> dict[str, int]:
    return allowed


OPERATIONS = {
    "GET /healthz": Rule(PUBLIC),
    "GET /readyz": Rule(PUBLIC),
    "GET /metrics": Rule(PUBLIC),
    "GET /admin/dead-letters": Rule(only(operator=200)),
    "POST /admin/dead-letters/{dead_letter_id}/replay": Rule(only(operator=404)),
    "GET /audit-trail": Rule(only(operator=200, admin=200)),
    "GET /personal-data/requests/{request_id}/held": Rule(only(operator=200, admin=200)),  # nothing held for it: []
}
STEP_ACTIONS = ("accept", "complete", "return", "supplement", "fee", "fee-payment", "refuse", "stop", "resume", "transfer")
READERS = only(counter=200, counter_b=404, leader=200, admin=200)  # counter_b serves Phú Lộc, not H30
AT_THE_COUNTER = only(counter=404, counter_b=404, admin=404)  # acting on a dossier that does not exist
TABLE: dict[str, dict[str, Rule]] = {
    "intake": {
        **OPERATIONS,
        "POST /dossiers": Rule(only(counter=201, counter_b=201, admin=201, portal=422)),  # the portal files online only
        "GET /dossiers": Rule(only(counter=200, counter_b=200, leader=200, admin=200)),
        "GET /dossiers/{dossier_id}": Rule(READERS),
        "GET /dossiers/{dossier_id}/receipt": Rule(READERS),
        "GET /dossiers/{dossier_id}/receipt.html": Rule(READERS),
        **{
            f"POST /dossiers/{{dossier_id}}/{action}": Rule(AT_THE_COUNTER, dossier="unknown")
            for action in ("supplement-requests", "supplements", "refusal", "withdrawal", "result-return")
        },
        # Without the secret nobody learns anything, not even that the code exists.
        "POST /lookup": Rule(only(citizen=200), others=404),
        "POST /lookup/rating": Rule(only(citizen=409), others=404),  # the result is not returned yet
        "GET /catalogue": Rule(PUBLIC),
        "GET /catalogue/procedures/{code}": Rule(PUBLIC),
        "POST /lgsp/dossiers": Rule(only(lgsp=201)),  # a dossier filed online elsewhere: the LGSP's token and signature
        # A citizen's export or erasure: the operator's alone (the example asks an export for the module's citizen).
        "POST /personal-data/requests": Rule(only(operator=201)),
        "GET /personal-data/requests/{request_id}": Rule(only(operator=404)),
        "GET /personal-data/requests": Rule(only(operator=200)),
    },
    "routing": {
        **OPERATIONS,
        "GET /dossiers/{dossier_id}/route": Rule(only(counter=200, counter_b=404, leader=200, specialist=200, admin=200)),
        "GET /admin/deliveries": Rule(only(operator=200)),
        "POST /admin/deliveries/{delivery_id}/resend": Rule(only(operator=404)),
        "GET /admin/portal/pushes": Rule(only(operator=200)),
        "POST /admin/portal/reconcile": Rule(only(operator=409)),  # this stack has no national portal configured
        "GET /admin/audit": Rule(only(operator=200)),
        "GET /admin/audit/verify": Rule(only(operator=200)),
        "GET /agency/steps": Rule(only(specialist=200, agency_a=200, agency_b=200, admin=200)),
        # BHXH's (agency_a's) step; to UBND-XA's system and specialist it does not exist.
        "GET /agency/steps/{dossier_id}/{step_id}": Rule(only(agency_a=200, admin=200, agency_b=404, specialist=404)),
        **{
            f"POST /agency/steps/{{dossier_id}}/{{step_id}}/{action}": Rule(
                only(agency_a=409, admin=409, agency_b=404, specialist=404)  # 409: the step is still waiting
            )
            for action in STEP_ACTIONS
        },
        "POST /lgsp/step-results": Rule(only(lgsp=404)),  # signed by CA-XA about a step that is not CA-XA's
    },
    "deadline": {
        **OPERATIONS,
        "GET /dossiers/{dossier_id}/deadlines": Rule(only(counter=200, counter_b=404, leader=200, specialist=200, admin=200)),
        "GET /dossiers/{dossier_id}/clock": Rule(only(counter=200, counter_b=404, leader=200, specialist=200, admin=200)),
        "POST /admin/tick": Rule(only(operator=200), body={}),
        "GET /reports/on-time": Rule(only(leader=200, admin=200), query=PERIOD),
        "GET /reports/on-time/series": Rule(only(leader=200, admin=200), query=PERIOD),
        "GET /reports/dashboard": Rule(only(leader=200, admin=200), query=PERIOD),
        "GET /reports/on-time/dossiers": Rule(only(leader=200, admin=200), query={**PERIOD, "key": H30, "state": "late"}),
    },
    "notify": {
        **OPERATIONS,
        "GET /dossiers/{dossier_id}/notices": Rule(only(counter=200, counter_b=404, leader=200, admin=200)),
        # An authentic receipt for a message id never sent; an access token is not the gateway's secret.
        "POST /sms/delivery-receipts": Rule(only(sms_gateway=404), others=401),
        "GET /admin/notices": Rule(only(operator=200)),
        "POST /admin/notices/{notice_id}/resend": Rule(only(operator=404)),
    },
}


def expected_status(rule: Rule, caller: str) -> int:
    if caller in rule.allowed:
        return rule.allowed[caller]
    if rule.others is not None:
        return rule.others
    return 403 if CALLERS[caller] else 401


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

    def headers(self, caller: str, raw: bytes) -> dict[str, str]:
        if caller == "citizen":
            return {"Authorization": f"Bearer {self.dossier.secret}"}  # the look-up secret opens nothing else
        if caller == "sms_gateway":
            return {"X-Callback-Token": RECEIPT_TOKEN}
        identity = CALLERS[caller]
        headers = self.system.headers(identity) if identity else {}
        if caller == "lgsp":
            headers |= lgsp_headers(raw)
        return headers

    def call(self, service: str, method: str, path: str, rule: Rule, spec: dict[str, Any], caller: str) -> httpx.Response:
        operation = spec["paths"][path][method.lower()]
        url = path.format(
            dossier_id=self.dossier.id if rule.dossier == "real" else UNKNOWN,
            step_id="health-insurance",  # agency A's (BHXH) step, still waiting
            dead_letter_id=999999,
            delivery_id=999999,
            notice_id=UNKNOWN,
            code="1.001193",
            request_id="pdr-00000000",
        )
        body = example_body(spec, operation) if rule.body == "example" else rule.body
        secret = self.dossier.secret if caller == "citizen" else "WRONG123"
        if path == "/lookup":
            body = {"code": self.dossier.code, "secret": secret}
        elif path == "/lookup/rating":
            body = {"code": self.dossier.code, "secret": secret, "score": 5}
        elif path == "/lgsp/dossiers":
            body = {**BIRTH_GROUP, "channel": 2}
        elif path == "/lgsp/step-results":
            body = {
                "request_id": "ac-1",
                "dossier_id": self.dossier.id,
                "step_id": "health-insurance",
                "action": "accept",
                "officer": "Đại úy Phạm Minh",  # named by the agency's own system, which the LGSP vouches for
            }
        raw = b"" if body is None else json.dumps(body).encode()
        headers = {**self.headers(caller, raw), **({"Content-Type": "application/json"} if raw else {})}
        return httpx.request(
            method, f"{self.system.url(service)}{url}", content=raw or None, headers=headers, params=rule.query, timeout=15
        )


@pytest.mark.parametrize("service", SERVICES)
def test_every_caller_gets_the_expected_status_on_every_endpoint(hardened: System, dossier: Dossier, service: str) -> None:
    spec = httpx.get(f"{hardened.url(service)}/openapi.json", timeout=10).json()
    endpoints = {f"{method.upper()} {path}" for path, operations in spec["paths"].items() for method in operations}
    table = TABLE[service]
    assert endpoints - table.keys() == set(), f"endpoints of {service} missing from the access table"
    assert table.keys() - endpoints == set(), f"the access table names endpoints {service} does not have"
    caller = Caller(hardened, dossier)
    mismatches = []
    for endpoint, rule in sorted(table.items()):
        method, path = endpoint.split(" ", 1)
        for who in CALLERS:
            response = caller.call(service, method, path, rule, spec, who)
            expected = expected_status(rule, who)
            if response.status_code != expected:
                mismatches.append(f"{who:11s} {endpoint}: {response.status_code} (expected {expected}) {response.text[:160]}")
            elif response.status_code >= 400:
                assert_problem(response, expected)
    assert not mismatches, "\n".join(mismatches)
