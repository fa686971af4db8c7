"""The Kubernetes manifests, rendered from the documented values (`deploy/kubernetes/values.yaml`)
and checked without a cluster: every core object by `kubernetes-validate` against the API of the
Kubernetes versions CloudNativePG 1.30 is tested on, every custom resource against its operator's
own schema (`deploy/kubernetes/crds/`, strictly: an unknown field is an error, as
`kubectl apply --validate=strict` makes it), each Kafka login's ACLs against the ones the
development brokers enforce, and each service started, as far as its settings and routes, from the
environment its Deployment gives it. Needs no running infrastructure."""

from __future__ import annotations

import copy
import importlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from sqlalchemy.engine import make_url
from starlette.routing import Match

from deploy.kubernetes import secrets
from deploy.kubernetes.__main__ import main
from deploy.kubernetes.apps import LOOKUP_PATH
from deploy.kubernetes.identity import THEME_DIR, audience, realm_file
from deploy.kubernetes.render import render
from deploy.kubernetes.values import DEFAULT_VALUES, Values, load_values
from services.events.topics import SERVICES, all_topics
from services.kafka_acls import Acl, Operation, Pattern, Resource, principal, service_acls

REPO = Path(__file__).resolve().parent.parent
CRDS = REPO / "deploy" / "kubernetes" / "crds"
# CloudNativePG 1.30's tested Kubernetes versions (its docs/src/supported_releases.md); kubernetes-validate ships each.
KUBERNETES_VERSIONS = ("1.34.0", "1.35.0", "1.36.0")
CORE_APIS = ("v1", "apps/v1", "policy/v1", "networking.k8s.io/v1")
CUSTOM_KINDS = {
    ("kafka.strimzi.io/v1", "Kafka"),
    ("kafka.strimzi.io/v1", "KafkaNodePool"),
    ("kafka.strimzi.io/v1", "KafkaTopic"),
    ("kafka.strimzi.io/v1", "KafkaUser"),
    ("postgresql.cnpg.io/v1", "Cluster"),
    ("postgresql.cnpg.io/v1", "Database"),
}
APPS = (*SERVICES, "web")

VALUES = load_values()
OBJECTS = [obj for objects in render(VALUES).values() for obj in objects]
SECRETS = secrets.objects(VALUES)


def find(kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [o for o in OBJECTS if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def one(kind: str, name: str) -> dict[str, Any]:
    (found,) = find(kind, name)
    return found


def deployment(component: str) -> dict[str, Any]:
    return one("Deployment", f"{VALUES.name}-{component}")


def container(component: str) -> dict[str, Any]:
    (only,) = deployment(component)["spec"]["template"]["spec"]["containers"]
    return only


# ---------------------------------------------------------------- schemas


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_core_object_is_valid_for_the_kubernetes_api(version: str) -> None:
    core = [o for o in OBJECTS if o["apiVersion"] in CORE_APIS]
    assert {o["kind"] for o in core} >= {"Namespace", "ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "Ingress"}
    for obj in core:
        kubernetes_validate.validate(obj, version, strict=True)


def test_only_known_kinds_are_rendered() -> None:
    """A kind that neither validation covers would go unchecked."""
    kinds = {(o["apiVersion"], o["kind"]) for o in OBJECTS}
    assert {k for k in kinds if k[0] not in CORE_APIS} == CUSTOM_KINDS


def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    schemas = {}
    for path in CRDS.glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            if version["served"]:
                key = (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
                schemas[key] = version["schema"]["openAPIV3Schema"]
    return schemas


def strict(schema: Any) -> Any:
    """The schema with every object closed to fields it does not name, as the API server's strict
    field validation treats them (its structural schemas otherwise drop unknown fields quietly)."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {k: (strict(v) if k not in ("enum", "default", "example") else v) for k, v in schema.items()}
    if "properties" in schema and "additionalProperties" not in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
        closed["additionalProperties"] = False
    return closed


SCHEMAS = crd_schemas()


def crd_errors(obj: dict[str, Any]) -> list[str]:
    schema = strict(SCHEMAS[(obj["apiVersion"], obj["kind"])])
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(obj)]


def test_every_custom_resource_is_valid_for_its_operators_schema() -> None:
    custom = [o for o in OBJECTS if o["apiVersion"] not in CORE_APIS]
    assert {(o["apiVersion"], o["kind"]) for o in custom} <= set(SCHEMAS)
    for obj in custom:
        assert crd_errors(obj) == [], f"{obj['kind']} {obj['metadata']['name']}"


@pytest.mark.parametrize(
    ("kind", "path", "wrong"),
    [
        ("KafkaUser", ("spec", "authorization", "acls", 0, "operation"), "Read"),  # the old singular form
        ("KafkaUser", ("spec", "authorization", "acls", 0, "resource", "patternType"), "prefixed"),
        ("Kafka", ("spec", "kafka", "listeners", 0, "authentication", "type"), "scram-sha-256"),
        ("KafkaNodePool", ("spec", "roles"), ["broker", "zookeeper"]),
        ("Cluster", ("spec", "managed", "roles", 0, "passwordSecrets"), {"name": "x"}),
        ("Database", ("spec", "schemas", 0, "owners"), "intake"),
    ],
)
def test_the_operators_schemas_refuse_what_their_operators_would(kind: str, path: tuple[Any, ...], wrong: Any) -> None:
    """The check above has teeth: a field its operator does not know, or a value it does not take, is refused."""
    obj = copy.deepcopy(find(kind)[0])
    node = obj
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = wrong
    assert crd_errors(obj)


# ---------------------------------------------------------------- Kafka


def acls_of(user: dict[str, Any]) -> list[Acl]:
    kinds = {"topic": Resource.TOPIC, "group": Resource.GROUP}
    patterns = {"literal": Pattern.LITERAL, "prefix": Pattern.PREFIXED}
    who = f"User:{user['metadata']['name']}"
    return [
        Acl(
            kinds[rule["resource"]["type"]],
            rule["resource"]["name"],
            patterns[rule["resource"]["patternType"]],
            who,
            Operation[op.upper()],
        )
        for rule in user["spec"]["authorization"]["acls"]
        if rule["type"] == "allow" and rule["host"] == "*"
        for op in rule["operations"]
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_each_kafka_user_may_do_exactly_what_the_development_brokers_allow(service: str) -> None:
    user = one("KafkaUser", service)
    assert f"User:{user['metadata']['name']}" == principal(service)
    assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
    assert user["spec"]["authorization"]["type"] == "simple"
    acls = acls_of(user)
    assert len(acls) == len(set(acls))
    assert set(acls) == set(service_acls(VALUES.kafka.topic_prefix, service))


def test_the_cluster_is_kraft_with_three_dual_role_nodes_and_scram_over_tls() -> None:
    (kafka,) = find("Kafka")
    assert kafka["metadata"]["annotations"] == {"strimzi.io/kraft": "enabled", "strimzi.io/node-pools": "enabled"}
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert listener["tls"] is True and listener["authentication"] == {"type": "scram-sha-512"}
    assert kafka["spec"]["kafka"]["authorization"] == {"type": "simple"}
    assert kafka["spec"]["kafka"]["config"]["min.insync.replicas"] == 2
    (pool,) = find("KafkaNodePool")
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    assert pool["spec"]["replicas"] == 3 and sorted(pool["spec"]["roles"]) == ["broker", "controller"]
    assert {u["metadata"]["labels"]["strimzi.io/cluster"] for u in find("KafkaUser") + find("KafkaTopic")} == {
        kafka["metadata"]["name"]
    }


def test_the_topics_are_the_backbone_topics_in_the_shape_the_services_are_told() -> None:
    topics = find("KafkaTopic")
    assert sorted(t["spec"]["topicName"] for t in topics) == sorted(all_topics(VALUES.kafka.topic_prefix))
    assert {(t["spec"]["partitions"], t["spec"]["replicas"], t["spec"]["config"]["min.insync.replicas"]) for t in topics} == {
        (6, 3, 2)
    }
    for service in SERVICES:
        data = one("ConfigMap", f"{VALUES.name}-{service}")["data"]
        assert (data["TOPIC_PARTITIONS"], data["TOPIC_REPLICATION_FACTOR"], data["TOPIC_MIN_INSYNC_REPLICAS"]) == ("6", "3", "2")


def test_a_topic_prefix_kubernetes_cannot_name_still_gives_valid_topic_objects() -> None:
    values = load_values(overrides=["kafka.topicPrefix=MotCua_Prod"])
    topics = [o for o in render(values)["10-kafka.yaml"] if o["kind"] == "KafkaTopic"]
    assert sorted(t["spec"]["topicName"] for t in topics) == sorted(all_topics("MotCua_Prod"))
    assert all(re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", t["metadata"]["name"]) for t in topics)
    assert all(crd_errors(t) == [] for t in topics)


# ---------------------------------------------------------------- the services' environment


def secret_value(ref: dict[str, Any]) -> str:
    """What a secretKeyRef reads: a Secret `--secrets` makes, or one an operator makes."""
    for secret in SECRETS:
        if secret["metadata"]["name"] == ref["name"]:
            assert ref["key"] in secret["stringData"], ref
            return secret["stringData"][ref["key"]]
    if ref["name"] in {u["metadata"]["name"] for u in find("KafkaUser")}:
        assert ref["key"] == "password"  # Strimzi's user operator writes the SCRAM password under this key
        return "scram-password-from-strimzi"
    raise AssertionError(f"nothing makes Secret {ref['name']} (key {ref['key']})")


def environment(component: str) -> dict[str, str]:
    """The container's environment as the kubelet would give it (envFrom, then env, $(VAR) expanded)."""
    spec = container(component)
    env: dict[str, str] = {}
    for source in spec["envFrom"]:
        if "configMapRef" in source:
            env.update(one("ConfigMap", source["configMapRef"]["name"])["data"])
        else:
            assert source["secretRef"].get("optional") is True, "a Secret nothing makes must be optional"
    for var in spec["env"]:
        if "value" in var:
            env[var["name"]] = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m[1], m[0]), var["value"])
        else:
            env[var["name"]] = secret_value(var["valueFrom"]["secretKeyRef"])
    return env


@pytest.fixture
def only_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set exactly this environment for a settings class (nothing of the test process's own leaks in)."""

    def apply(settings_class: Any, env: dict[str, str]) -> None:
        names = {f.validation_alias for f in settings_class.model_fields.values() if isinstance(f.validation_alias, str)}
        for name in list(os.environ):
            if name in names:
                monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)

    yield apply


def serves(app: Any, path: str) -> bool:
    """Whether one of the app's routes takes a GET of this path (as its router would match it)."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "query_string": b"", "headers": []}
    return any(route.matches(scope)[0] == Match.FULL for route in app.routes)


def probe_paths(component: str) -> set[str]:
    spec = container(component)
    ports = {p["name"] for p in spec["ports"]}
    probes = [spec[p] for p in ("startupProbe", "livenessProbe", "readinessProbe")]
    assert all(p["httpGet"]["port"] in ports for p in probes)
    assert spec["livenessProbe"]["httpGet"]["path"] == "/healthz" and spec["readinessProbe"]["httpGet"]["path"] == "/readyz"
    return {p["httpGet"]["path"] for p in probes}


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_gets_every_setting_it_needs_and_its_probes_exist(service: str, only_environment: Any) -> None:
    from services.runtime import build_app

    definition = importlib.import_module(f"{service}.service").definition
    env = environment(service)
    only_environment(definition.settings_class, env)
    settings = definition.settings_class(service_name=definition.name)

    database = make_url(settings.database_url)
    assert (database.drivername, database.username, database.host, database.port, database.database) == (
        "postgresql+asyncpg",
        service,
        f"{VALUES.postgres.cluster}-rw.{VALUES.namespace}.svc",
        5432,
        VALUES.postgres.database,
    )
    assert database.password == secret_value({"name": f"{VALUES.name}-db-{service}", "key": "password"})
    assert settings.kafka_bootstrap_servers == f"{VALUES.kafka.cluster}-kafka-bootstrap.{VALUES.namespace}.svc:9093"
    assert settings.kafka_security_protocol == "SASL_SSL"
    assert (settings.kafka_sasl_username, settings.kafka_sasl_password.get_secret_value()) == (
        service,
        "scram-password-from-strimzi",
    )
    assert settings.topic_prefix == VALUES.kafka.topic_prefix
    assert (settings.topic_replication_factor, settings.topic_min_insync_replicas) == (3, 2)
    assert settings.oidc_issuer == f"https://{VALUES.identity.host}/realms/{VALUES.identity.realm}"
    assert settings.oidc_audience == audience(realm_file())
    assert settings.http_host == "0.0.0.0" and settings.http_port == container(service)["ports"][0]["containerPort"]

    # The brokers' CA is where KAFKA_CA_FILE says, from the Secret Strimzi keeps the cluster CA in.
    pod = deployment(service)["spec"]["template"]["spec"]
    (mount,) = [m for m in container(service)["volumeMounts"] if settings.kafka_ca_file.startswith(m["mountPath"] + "/")]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert volume["secret"] == {
        "secretName": f"{VALUES.kafka.cluster}-cluster-ca-cert",
        "items": [{"key": "ca.crt", "path": "ca.crt"}],
    }

    app = build_app(definition, settings)
    assert all(serves(app, path) for path in probe_paths(service))
    assert not serves(app, "/health")


def test_what_notify_writes_goes_to_a_writable_volume(only_environment: Any) -> None:
    from notify.settings import NotifySettings

    only_environment(NotifySettings, environment("notify"))
    sink = str(NotifySettings(service_name="notify").sink_path)
    spec = container("notify")
    assert spec["securityContext"]["readOnlyRootFilesystem"] is True
    (scratch,) = [m for m in spec["volumeMounts"] if sink.startswith(m["mountPath"] + "/")]
    assert not scratch.get("readOnly")


def test_citizens_links_open_the_consoles_public_lookup_page() -> None:
    assert environment("intake")["INTAKE_PUBLIC_BASE_URL"] == f"https://{VALUES.web.host}"
    assert environment("notify")["NOTIFY_LOOKUP_URL"] == f"https://{VALUES.web.host}{LOOKUP_PATH}"


def test_the_console_gets_every_setting_it_needs_and_its_probes_exist(only_environment: Any) -> None:
    from web.service import build_app
    from web.settings import WebSettings

    only_environment(WebSettings, environment("web"))
    settings = WebSettings()
    assert settings.public_url == f"https://{VALUES.web.host}" and settings.secure_cookies
    assert settings.oidc_issuer == f"https://{VALUES.identity.host}/realms/{VALUES.identity.realm}"
    for service in SERVICES:
        service_object = one("Service", f"{VALUES.name}-{service}")
        url = make_url(getattr(settings, f"{service}_url").replace("http://", "postgresql://"))  # any scheme parses the host
        assert url.host == f"{service_object['metadata']['name']}.{VALUES.namespace}.svc"
        assert url.port == service_object["spec"]["ports"][0]["port"]
    assert "KAFKA_SASL_PASSWORD" not in environment("web")  # the console never talks to Kafka
    app = build_app(settings)
    assert all(serves(app, path) for path in probe_paths("web"))
    assert not serves(app, "/health")


def test_traces_go_to_the_collector_given_and_are_off_without_one() -> None:
    from services.tracing import wanted

    assert not any(wanted(environment(component)) for component in APPS), "the documented values make no traces"
    endpoint = "http://otel-collector.observability.svc:4318"
    traced = load_values(overrides=[f"tracing.otlpEndpoint={endpoint}"])
    configs = {o["metadata"]["name"]: o for objects in render(traced).values() for o in objects if o["kind"] == "ConfigMap"}
    for component in APPS:
        config = configs[f"{traced.name}-{component}"]
        assert config["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == endpoint
        assert wanted(config["data"])
        assert "OTEL_SERVICE_NAME" not in config["data"]  # each process names itself
    with pytest.raises(ValueError, match="otlpEndpoint"):
        load_values(overrides=["tracing.otlpEndpoint=otel-collector:4318"])


@pytest.mark.parametrize("component", APPS)
def test_each_app_runs_as_nobody_with_two_replicas_a_budget_and_a_service(component: str) -> None:
    spec = deployment(component)["spec"]
    pod = spec["template"]["spec"]
    assert spec["replicas"] == 2
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert container(component)["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container(component)["image"] == f"{VALUES.image.registry}/motcua-{component}:{VALUES.image.tag}"
    assert container(component)["resources"]["requests"] and container(component)["resources"]["limits"]["memory"]
    labels = spec["selector"]["matchLabels"]
    assert one("PodDisruptionBudget", f"{VALUES.name}-{component}")["spec"]["selector"]["matchLabels"] == labels
    assert one("Service", f"{VALUES.name}-{component}")["spec"]["selector"] == labels
    assert labels.items() <= spec["template"]["metadata"]["labels"].items()


def test_every_secret_a_pod_reads_is_made_by_the_secrets_command_or_an_operator() -> None:
    for obj in find("Deployment"):
        pod = obj["spec"]["template"]["spec"]
        for spec in pod["containers"]:
            for var in spec.get("env", []):
                if "valueFrom" in var:
                    secret_value(var["valueFrom"]["secretKeyRef"])
        for volume in pod["volumes"]:
            if "secret" in volume:
                assert volume["secret"]["secretName"] == f"{VALUES.kafka.cluster}-cluster-ca-cert"  # Strimzi's


# ---------------------------------------------------------------- PostgreSQL and Keycloak


def test_the_database_has_a_standby_and_a_login_and_schema_per_service() -> None:
    (cluster,) = find("Cluster")
    assert cluster["spec"]["instances"] == 2
    assert cluster["spec"]["bootstrap"]["initdb"]["database"] == VALUES.postgres.database
    roles = {r["name"]: r for r in cluster["spec"]["managed"]["roles"]}
    assert set(roles) == {*SERVICES, "keycloak"}
    for name, role in roles.items():
        assert role["login"] is True and not role["superuser"] and not role["createdb"] and not role["createrole"]
        (secret,) = [s for s in SECRETS if s["metadata"]["name"] == role["passwordSecret"]["name"]]
        assert secret["type"] == "kubernetes.io/basic-auth" and secret["stringData"]["username"] == name
    databases = {d["spec"]["name"]: d for d in find("Database")}
    assert databases[VALUES.postgres.database]["spec"]["schemas"] == [
        {"name": service, "owner": service, "ensure": "present"} for service in SERVICES
    ]
    assert databases[VALUES.identity.database]["spec"]["owner"] == "keycloak"
    assert {d["spec"]["cluster"]["name"] for d in databases.values()} == {cluster["metadata"]["name"]}


def test_keycloak_imports_the_realm_with_the_console_redirecting_only_to_its_public_address() -> None:
    name = f"{VALUES.name}-keycloak"
    realm = yaml.safe_load(one("ConfigMap", f"{name}-realm")["data"][f"realm-{VALUES.identity.realm}.json"])
    (console,) = [c for c in realm["clients"] if c["clientId"] == "motcua-console"]
    assert console["redirectUris"] == [f"https://{VALUES.web.host}/*"]
    assert realm["realm"] == VALUES.identity.realm
    spec = container("keycloak")
    env = {v["name"]: v for v in spec["env"]}
    assert env["KC_HOSTNAME"]["value"] + f"/realms/{VALUES.identity.realm}" == environment("intake")["OIDC_ISSUER"]
    assert env["KC_DB_URL_DATABASE"]["value"] == VALUES.identity.database
    assert env["KC_DB_USERNAME"]["valueFrom"]["secretKeyRef"]["name"] == f"{VALUES.name}-db-keycloak"
    assert "--import-realm" in spec["args"]
    # Every file of the login theme is mounted where Keycloak looks for the theme.
    (theme,) = [v for v in deployment("keycloak")["spec"]["template"]["spec"]["volumes"] if v["name"] == "theme"]
    files = {p.relative_to(THEME_DIR).as_posix() for p in THEME_DIR.rglob("*") if p.is_file()}
    assert {item["path"] for item in theme["configMap"]["items"]} == files
    assert {p["httpGet"]["path"] for p in (spec["startupProbe"], spec["livenessProbe"], spec["readinessProbe"])} == {
        "/health/started",
        "/health/live",
        "/health/ready",
    }


def test_browsers_reach_the_console_and_keycloak_over_tls() -> None:
    hosts = {rule["host"]: i for i in find("Ingress") for rule in i["spec"]["rules"]}
    assert set(hosts) == {VALUES.web.host, VALUES.identity.host}
    for host, obj in hosts.items():
        assert obj["spec"]["tls"] == [{"hosts": [host], "secretName": VALUES.ingress.tls_secret}]


# ---------------------------------------------------------------- values, README and the command


def leaf_keys(tree: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and key not in ("resources", "env", "annotations", "storage"):
            yield from leaf_keys(value, path + ".")
        else:
            yield re.sub(r"^services\.(intake|routing|deadline|notify)\.", "services.<service>.", path)


def test_every_value_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Deploying on Kubernetes", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Za-z<>.]+)`", section))
    missing = sorted(set(leaf_keys(yaml.safe_load(DEFAULT_VALUES.read_text()))) - documented)
    assert missing == []


def test_the_command_writes_the_same_objects_and_refuses_wrong_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path), "--set", "image.tag=2.0.1"]) == 0
    written = [o for f in sorted(tmp_path.glob("*.yaml")) for o in yaml.safe_load_all(f.read_text())]
    assert len(written) == len(OBJECTS)
    assert {
        o["spec"]["template"]["spec"]["containers"][0]["image"].rsplit(":", 1)[1]
        for o in written
        if o["kind"] == "Deployment" and o["metadata"]["name"] != f"{VALUES.name}-keycloak"
    } == {"2.0.1"}

    assert main(["--set", "kafka.replicationFactor=4"]) == 2
    assert "replicationFactor 4 needs as many brokers" in capsys.readouterr().err
    assert main(["--set", "services.intake.env.DATABASE_URL=postgresql://elsewhere/db"]) == 2
    assert "cannot set DATABASE_URL" in capsys.readouterr().err
    assert main(["--set", "kafka.partition=12"]) == 2  # a misspelt key is not ignored
    assert "partition" in capsys.readouterr().err


def test_the_secrets_command_prints_fresh_secrets_for_every_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--secrets"]) == 0
    first = list(yaml.safe_load_all(capsys.readouterr().out))
    assert main(["--secrets"]) == 0
    second = list(yaml.safe_load_all(capsys.readouterr().out))
    assert [s["metadata"]["name"] for s in first] == [s["metadata"]["name"] for s in SECRETS]
    assert first[0]["stringData"]["password"] != second[0]["stringData"]["password"]
    for version in KUBERNETES_VERSIONS[-1:]:
        for secret in first:
            kubernetes_validate.validate(secret, version, strict=True)


def test_values_must_be_consistent() -> None:
    with pytest.raises(ValueError, match="minInsyncReplicas"):
        load_values(overrides=["kafka.minInsyncReplicas=4"])
    assert isinstance(load_values(overrides=["kafka.version=4.1.0"]), Values)
    assert render(load_values(overrides=["kafka.version=4.1.0"]))["10-kafka.yaml"][0]["spec"]["kafka"]["version"] == "4.1.0"
