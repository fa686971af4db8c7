"""The deployment files as an operator uses them, checked without a Docker engine (none exists where
the tests run): docker-compose.yml against the Compose Specification's JSON schema, interpolated as
Compose does with the secrets of .env.example filled in; each service's environment read by its own
settings class; the secrets required; what each service waits for; the Dockerfile's stages, user and
health check; the runtime requirements against what the code imports; and .dockerignore."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.resources
import json
import os
import re
import secrets
import shlex
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from cryptography.fernet import Fernet
from dockerfile_parse import DockerfileParser
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from services.personal_data.keys import new_key, ring_text

REPO = Path(__file__).resolve().parent.parent
SERVICES = ("intake", "routing", "deadline", "notify")
FIRST_PARTY = {"services", "infra", "web", *SERVICES}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|SESSION_KEY|TOKEN|_KEYS$|INDEX_KEY")


# ---------------------------------------------------------------- Compose's variable interpolation


class MissingVariable(Exception):
    pass


REFERENCE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """What Compose makes of a value: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
    ${VAR?error}, ${VAR:+other}, $VAR and $$, in every string of the file."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["name"] or match["bare"]
        op, arg = match["op"], match["arg"] or ""
        given = env.get(name)
        present = given is not None and (given != "" or not (op or "").startswith(":"))
        if op in (":?", "?") and not present:
            raise MissingVariable(f"{name}: {arg}")
        if op in (":-", "-"):
            return given if present else arg
        if op in (":+", "+"):
            return arg if present else ""
        return given or ""

    return REFERENCE.sub(substitute, value)


def references(value: str) -> Iterator[tuple[str, str | None]]:
    for match in REFERENCE.finditer(value):
        if not match["escaped"]:
            yield match["name"] or match["bare"], match["op"]


def env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (REPO / ".env.example").read_text().splitlines() if line and line[0] != "#")
    return {name.strip(): value.strip() for name, value in pairs}


def filled_secrets() -> dict[str, str]:
    """A value for every secret of .env.example, as an operator following its comments makes them."""

    def value(name: str) -> str:
        if name == "WEB_SESSION_KEY":
            return Fernet.generate_key().decode()
        if name.endswith("_KEYS"):
            return ring_text({"k1": new_key()})
        if name.endswith("INDEX_KEY"):
            return new_key()
        return secrets.token_hex(24)

    return {name: value(name) for name in env_example() if SECRET_NAME.search(name)}


def raw_compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())  # resolves the `<<:` merges


@pytest.fixture(scope="module")
def values() -> dict[str, str]:
    return filled_secrets()


@pytest.fixture(scope="module")
def compose(values: dict[str, str]) -> dict[str, Any]:
    return interpolate(raw_compose(), values)


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


# ---------------------------------------------------------------- the Dockerfile, by stage


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)


def dockerfile_stages() -> dict[str, Stage]:
    parser = DockerfileParser(path=str(REPO / "Dockerfile"))
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for item in parser.structure:
        instruction, value = item["instruction"], item["value"]
        if instruction == "FROM":
            words = value.split()
            base, name = words[0], words[2] if len(words) == 3 and words[1].upper() == "AS" else str(len(stages))
            current = stages[name] = Stage(name, base)
        elif current is not None and instruction != "COMMENT":
            current.instructions.append((instruction, value))
    return stages


def chain(stages: dict[str, Stage], target: str) -> list[Stage]:
    """The stages an image of `target` is made of, its base first."""
    found = [stages[target]]
    while found[-1].base in stages:
        found.append(stages[found[-1].base])
    return found[::-1]


def image_instructions(stages: dict[str, Stage], target: str, build_args: dict[str, str]) -> list[tuple[str, str]]:
    args = dict(build_args)
    out = []
    for stage in chain(stages, target):
        for instruction, value in stage.instructions:
            if instruction == "ARG":
                name, _, default = value.partition("=")
                args.setdefault(name, default)
            out.append((instruction, re.sub(r"\$\{(\w+)\}", lambda m: args.get(m[1], m[0]), value)))
    return out


def image_env(instructions: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, value in instructions:
        if instruction == "ENV":
            env |= dict(pair.split("=", 1) for pair in shlex.split(value))
    return env


def built_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in compose["services"].items() if "build" in service}


def build_target(service: dict[str, Any]) -> tuple[str, dict[str, str]]:
    build = service["build"]
    return build["target"], {key: str(value) for key, value in (build.get("args") or {}).items()}


# ---------------------------------------------------------------- docker-compose.yml


def test_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in jsonschema.Draft202012Validator(schema).iter_errors(compose)
    ]
    assert errors == []


def test_compose_references_resolve(compose: dict[str, Any]) -> None:
    stages = dockerfile_stages()
    declared_volumes = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for other in service.get("depends_on") or {}:
            assert other in compose["services"], f"{name} waits for {other}, which is not a service"
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name} mounts {source}, which is not in the repository"
            else:
                assert source in declared_volumes, f"{name} mounts volume {source}, which is not declared"
        if "build" in service:
            target, args = build_target(service)
            assert target in stages, f"{name} builds target {target}, which the Dockerfile lacks"
            if "SERVICE" in args:
                assert (REPO / f"{args['SERVICE']}-service").is_dir()


def test_every_secret_is_required_and_documented() -> None:
    """A secret comes only from the operator's environment, as ${VAR:?...}: a missing one stops
    `docker compose up` with its name; none has a default, none is written in the file. What else
    .env.example lists is optional (${VAR:-...}): left out, the stack still starts."""
    documented = env_example()
    optional: set[str] = set()
    required: set[str] = set()
    for name, service in raw_compose()["services"].items():
        for key, value in environment(service).items():
            refs = list(references(value))
            for variable, op in refs:
                assert variable in documented, f"{name}.{key} uses {variable}, which .env.example does not list"
                if SECRET_NAME.search(variable):
                    assert op == ":?", f"{name}.{key}: the secret {variable} must be required as ${{{variable}:?...}}"
                    required.add(variable)
                else:
                    assert op in (":-", "-"), f"{name}.{key}: {variable} is optional, so ${{{variable}:-...}}"
                    optional.add(variable)
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", value), f"{name}.{key} must be one required variable, not {value!r}"
            if key == "DATABASE_URL":
                assert re.fullmatch(r"postgresql\+asyncpg://\w+:\$\{\w+:\?[^}]*\}@[\w.-]+:\d+/\w+", value), (
                    f"{name}.DATABASE_URL: its password must be a required variable"
                )
    assert required | optional == set(documented), "every variable of .env.example is one the compose file reads"
    assert not optional & {name for name in documented if SECRET_NAME.search(name)}
    assert all(value == "" for value in documented.values()), ".env.example ships no secret value"
    interpolate(raw_compose(), filled_secrets())  # the optional ones may be left out
    for variable in required:
        with pytest.raises(MissingVariable, match=variable):
            interpolate(raw_compose(), filled_secrets() | {variable: ""})


def test_traces_go_to_the_collector_in_env_and_are_off_without_one(values: dict[str, str]) -> None:
    from services.tracing import wanted

    endpoint = "http://otel-collector:4318"
    traced = interpolate(raw_compose(), values | {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint})
    plain = interpolate(raw_compose(), values)
    for name in [*SERVICES, "web"]:
        assert environment(traced["services"][name])["OTEL_EXPORTER_OTLP_ENDPOINT"] == endpoint
        assert wanted(environment(traced["services"][name]))
        assert not wanted(environment(plain["services"][name])), f"{name} traces with no collector given"


@pytest.mark.parametrize("name", [*SERVICES, "web"])
def test_each_service_starts_with_the_environment_compose_gives_it(
    name: str, compose: dict[str, Any], values: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its settings class reads the image's and the compose file's environment without a missing or
    wrong value, and the logins it is given are the ones the database and the broker are made with."""
    service = compose["services"][name]
    target, args = build_target(service)
    env = image_env(image_instructions(dockerfile_stages(), target, args)) | environment(service)
    monkeypatch.setattr(os, "environ", env)
    if name == "web":
        from web.settings import WebSettings

        settings = WebSettings()
        for other in SERVICES:
            assert getattr(settings, f"{other}_url") == f"http://{other}:8000"
        assert settings.oidc_issuer == environment(compose["services"]["intake"])["OIDC_ISSUER"]
        assert not any(key.startswith(("KAFKA_", "DATABASE")) for key in env), "the console reaches only the services"
        return

    definition = importlib.import_module(f"{name}.service").definition
    settings = definition.settings_class(service_name=name)
    mounts = {volume.split(":")[1]: volume for volume in service["volumes"]}
    database = httpx.URL(settings.database_url.replace("postgresql+asyncpg", "postgresql"))
    assert (database.username, database.host, database.path) == (name, "postgres", "/motcua"), "its own login"
    assert database.password == values[f"{name.upper()}_DB_PASSWORD"]
    assert environment(compose["services"]["postgres"])[f"{name.upper()}_DB_PASSWORD"] == database.password
    assert settings.kafka_security_protocol == "SASL_SSL" and settings.kafka_sasl_username == name
    assert settings.kafka_sasl_password is not None
    kafka_env = environment(compose["services"]["kafka"])
    assert kafka_env[f"{name.upper()}_KAFKA_PASSWORD"] == settings.kafka_sasl_password.get_secret_value()
    assert settings.kafka_ca_file is not None and str(Path(settings.kafka_ca_file).parent) in mounts
    keycloak = environment(compose["services"]["keycloak"])
    assert settings.oidc_issuer == f"{keycloak['KC_HOSTNAME']}/realms/motcua"
    if name == "notify":  # the sink is a volume the service's user may write
        assert str(settings.sink_path.parent) in mounts and not mounts[str(settings.sink_path.parent)].endswith(":ro")


def test_the_init_scripts_make_the_logins_the_services_use(compose: dict[str, Any]) -> None:
    postgres_logins = re.search(r"for login in ([\w ]+); do", (REPO / "infra/compose/postgres-init.sh").read_text())
    kafka_logins = re.search(r"LOGINS=\(([\w ]+)\)", (REPO / "infra/compose/kafka-start.sh").read_text())
    assert postgres_logins and set(postgres_logins[1].split()) == {*SERVICES, "keycloak"}
    assert kafka_logins and set(kafka_logins[1].split()) == {*SERVICES, "operator"}
    postgres, kafka = environment(compose["services"]["postgres"]), environment(compose["services"]["kafka"])
    assert environment(compose["services"]["keycloak"])["KC_DB_USERNAME"] == "keycloak"
    assert environment(compose["services"]["keycloak"])["KC_DB_PASSWORD"] == postgres["KEYCLOAK_DB_PASSWORD"]
    provision = environment(compose["services"]["kafka-provision"])
    assert provision["KAFKA_SASL_USERNAME"] == "operator"
    assert provision["KAFKA_SASL_PASSWORD"] == kafka["OPERATOR_KAFKA_PASSWORD"]


def test_services_wait_for_what_they_need_and_no_more(compose: dict[str, Any]) -> None:
    """A service needs its database (it migrates at start), Keycloak (every request's token) and its
    topics and ACLs; not the broker itself, whose absence it rides out. The console needs Keycloak."""
    services = compose["services"]

    def waits_for(name: str) -> dict[str, str]:
        return {other: rule["condition"] for other, rule in services[name]["depends_on"].items()}

    for name in SERVICES:
        assert waits_for(name) == {
            "postgres": "service_healthy",
            "keycloak": "service_healthy",
            "kafka-provision": "service_completed_successfully",
        }
    assert waits_for("web") == {"keycloak": "service_healthy"}
    assert waits_for("kafka-provision") == {"kafka": "service_healthy"}
    assert waits_for("kafka") == {"kafka-tls": "service_completed_successfully"}
    assert waits_for("keycloak") == {"postgres": "service_healthy"}
    for name in ("postgres", "keycloak", "kafka"):
        assert "healthcheck" in services[name], f"others wait for {name} to be healthy"


def test_health_checks_ask_liveness_not_kafka(compose: dict[str, Any]) -> None:
    stages = dockerfile_stages()
    for name, service in built_services(compose).items():
        target, args = build_target(service)
        checks = [value for instruction, value in image_instructions(stages, target, args) if instruction == "HEALTHCHECK"]
        checks += [" ".join(service["healthcheck"].get("test", []))] if "healthcheck" in service else []
        if name in (*SERVICES, "web"):
            assert checks and "/healthz" in checks[-1], f"{name}'s health check asks /healthz"
        for check in checks:
            assert "/readyz" not in check and "kafka" not in check.lower(), (
                f"{name}'s health check depends on more than the process"
            )


@pytest.mark.parametrize("name", [*SERVICES, "web"])
async def test_the_health_check_path_answers_with_the_database_and_broker_away(
    name: str, compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built from the compose environment, where `postgres`, `kafka` and `keycloak` do not resolve
    here: /healthz, what the image's health check asks, answers 200 all the same."""
    service = compose["services"][name]
    target, args = build_target(service)
    monkeypatch.setattr(os, "environ", image_env(image_instructions(dockerfile_stages(), target, args)) | environment(service))
    if name == "web":
        from web.service import build_app
        from web.settings import WebSettings

        app = build_app(WebSettings())
    else:
        from services.runtime import build_app as build_service_app

        app = build_service_app(importlib.import_module(f"{name}.service").definition)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://container") as client:
            assert (await client.get("/healthz")).status_code == 200
    finally:
        await (app.state.wiring.close() if name == "web" else app.state.runtime.stop())


# ---------------------------------------------------------------- the Dockerfile


def test_images_are_multi_stage_non_root_and_hold_only_their_code(compose: dict[str, Any]) -> None:
    stages = dockerfile_stages()
    allowed_sources = {
        "service": {"services/", "{service}-service/"},
        "web": {"services/", "web-service/"},
        "ops": {"services/", "infra/__init__.py", "infra/pki.py", "infra/deploy.py"},
    }
    for name, service in built_services(compose).items():
        target, args = build_target(service)
        made_of = [stage.name for stage in chain(stages, target)]
        assert "builder" not in made_of, f"{name}: the image copies the virtualenv from the builder stage, not its layers"
        instructions = image_instructions(stages, target, args)
        users = [value for instruction, value in instructions if instruction == "USER"]
        assert users, f"{name} runs as root"
        uid = users[-1].split(":")[0]
        assert uid.isdigit() and int(uid) != 0, f"{name} runs as {users[-1]}: a numeric uid other than 0"
        assert service.get("user") in (None, uid) or name == "kafka-tls", f"{name}: compose must not run it as {service['user']}"
        copied = set()
        for instruction, value in instructions:
            assert not (instruction == "RUN" and re.search(r"\bpip\b", value)), f"{name}: pip runs in the image itself"
            if instruction == "COPY":
                words = value.split()
                if any(word.startswith("--from=") for word in words):
                    assert words[0] in ("--from=builder", "--from=htmx"), value
                else:
                    copied |= set(words[:-1])
        expected = {source.format(service=args.get("SERVICE")) for source in allowed_sources[target]}
        assert copied == expected, f"{name} copies {sorted(copied)}"
    builder = " ".join(value for _, value in stages["builder"].instructions)
    assert "requirements-dev" not in builder and re.search(r"install .*-r /tmp/requirements\.txt", builder)
    assert "COPY requirements.txt /tmp/requirements.txt" in (REPO / "Dockerfile").read_text()


def test_the_console_image_has_the_htmx_that_development_vendors() -> None:
    args = dict(value.split("=", 1) for instruction, value in dockerfile_stages()["htmx"].instructions if instruction == "ARG")
    installed = re.search(r"^HTMX_VERSION=(\S+)$", (REPO / "scripts/install.sh").read_text(), re.MULTILINE)
    assert installed and args["HTMX_VERSION"] == installed[1]


# ---------------------------------------------------------------- requirements


def requirement_lines(path: Path) -> list[Requirement]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-r")]


def installed_closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution these requirements bring in (their extras included), from the installed metadata."""
    seen: set[tuple[str, frozenset[str]]] = set()
    pending = list(requirements)
    while pending:
        requirement = pending.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        extras = requirement.extras or {""}
        for dependency in importlib.metadata.distribution(requirement.name).requires or []:
            child = Requirement(dependency)
            if child.marker is None or any(child.marker.evaluate({"extra": extra}) for extra in extras):
                pending.append(child)
    return {name for name, _ in seen}


def runtime_modules() -> Iterator[Path]:
    """What the images run: the kernel, each service's and the console's code and migrations, the jobs."""
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    roots = ("services/", *(f"{name}-service/" for name in (*SERVICES, "web")))
    for path in tracked:
        if (path.startswith(roots) and "tests" not in Path(path).parts) or path in ("infra/pki.py", "infra/deploy.py"):
            yield REPO / path


def test_runtime_requirements_cover_what_the_code_imports_and_hold_no_dev_tool() -> None:
    runtime = installed_closure(requirement_lines(REPO / "requirements.txt"))
    providers = importlib.metadata.packages_distributions()
    missing = set()
    for path in runtime_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for top in {name.split(".")[0] for name in names} - FIRST_PARTY - set(sys.stdlib_module_names):
                distributions = {canonicalize_name(d) for d in providers.get(top, [top])}
                if not distributions & runtime:
                    missing.add(f"{top} ({path.relative_to(REPO)})")
    assert not missing, f"imported at run time but not installed by requirements.txt: {sorted(missing)}"
    # PyYAML: these tests read YAML with it, and uvicorn[standard] installs it for its log configuration.
    dev_tools = {canonicalize_name(r.name) for r in requirement_lines(REPO / "requirements-dev.txt")} - {"pyyaml"}
    assert not dev_tools & runtime, f"test or lint tools in the runtime requirements: {sorted(dev_tools & runtime)}"
    assert "-r requirements.txt" in (REPO / "requirements-dev.txt").read_text().splitlines()


# ---------------------------------------------------------------- .dockerignore


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last pattern matching the path or a folder above it decides; `!` keeps."""

    def regex(pattern: str) -> re.Pattern[str]:
        out, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                out, i = out + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                out, i = out + ".*", i + 2
            else:
                out += {"*": "[^/]*", "?": "[^/]"}.get(pattern[i], re.escape(pattern[i]))
                i += 1
        return re.compile(out)

    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        keep = pattern.startswith("!")
        compiled = regex(pattern.lstrip("!").strip("/"))
        if any(compiled.fullmatch(candidate) for candidate in candidates):
            excluded = not keep
    return excluded


def test_dockerignore_sends_the_code_and_nothing_else() -> None:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert not any("[" in pattern for pattern in patterns), "character classes are not handled here"
    for unwanted in (
        ".venv/bin/python",
        ".run/test/postgres/PG_VERSION",
        ".env",
        ".git/HEAD",
        "test-results/report.xml",
        "node_modules/htmx.org/package.json",
        "web-service/.vendor/node_modules/htmx.org/dist/htmx.min.js",
        "tests/test_chaos.py",
        "services/tests/test_settings.py",
        "intake-service/tests/conftest.py",
        "services/__pycache__/settings.cpython-311.pyc",
        "infra/kafka/lib/kafka_2.13-3.9.2.jar",
        "infra/keycloak/dist/keycloak-26.5.6/bin/kc.sh",
        "bench/__main__.py",
        "requirements-dev.txt",
    ):
        assert dockerignore_excludes(patterns, unwanted), f"{unwanted} would be sent to the build"
    copied = ("requirements.txt", "services/", "infra/", *(f"{name}-service/" for name in (*SERVICES, "web")))
    tracked = subprocess.run(["git", "ls-files", *copied], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    for path in tracked:
        if "tests" not in Path(path).parts:
            assert not dockerignore_excludes(patterns, path), f"{path} is copied into an image but left out of the build"


# ---------------------------------------------------------------- the one-shot jobs


def handshake(keystore: Path, ca: Path, server_hostname: str) -> None:
    """A TLS handshake as a service's Kafka client makes it: the broker's certificate checked
    against the CA and the name the client reached it by."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(keystore)
    client_context = ssl.create_default_context(cafile=str(ca))
    ours, theirs = socket.socketpair()
    errors: list[Exception] = []

    def serve() -> None:
        try:
            with server_context.wrap_socket(theirs, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError) as exc:
            errors.append(exc)

    broker = threading.Thread(target=serve)
    broker.start()
    try:
        with client_context.wrap_socket(ours, server_hostname=server_hostname) as tls:
            tls.sendall(b"x")
    finally:
        ours.close()
        broker.join(5)
        theirs.close()


def test_the_tls_job_makes_a_certificate_clients_accept_for_the_name_kafka(tmp_path: Path) -> None:
    from infra.deploy import make_tls

    keystore = make_tls(tmp_path / "tls", ["kafka"], broker_owner=None)
    ca = tmp_path / "tls" / "ca.pem"
    handshake(keystore, ca, "kafka")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(keystore, ca, "postgres")
    modes = {path.name: path.stat().st_mode & 0o777 for path in (tmp_path / "tls").iterdir()}
    assert modes == {"ca.pem": 0o644, "ca-key.pem": 0o600, "broker.pem": 0o600}, "only the CA's certificate is for everyone"
    before = keystore.read_bytes()
    make_tls(tmp_path / "tls", ["kafka"], broker_owner=None)
    assert keystore.read_bytes() == before, "a second run keeps what the broker already uses"
