"""Keycloak, the identity provider, as a plain Deployment of the official image.

Not the Keycloak operator's `Keycloak` resource: the operator would be one more thing to install
before MotCua, and our login theme would need an image of our own built for it, while the plain
image takes the realm file and the theme from ConfigMaps, exactly as `infra/` and
docker-compose.yml give them to Keycloak, and every object here is a core one that the tests
validate. Keycloak clusters itself through its database (the jdbc-ping cache stack, Keycloak 26's
default), so two replicas need nothing more. Its data is in a database of its own in the
CloudNativePG cluster, reached as its own login.

The realm is `infra/keycloak/realm-motcua.json`, imported at the first start, with the console's
client made to redirect only to the console's public address."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from deploy.kubernetes.common import (
    POSTGRES_PORT,
    Object,
    app_name,
    cluster_service,
    container_security,
    database_secret,
    disruption_budget,
    http_probes,
    ingress,
    keycloak_admin_secret,
    metadata,
    pod_security,
    postgres_host,
    resources,
    secret_env,
    selector,
    spread,
)
from deploy.kubernetes.values import Values

KEYCLOAK_DIR = Path(__file__).resolve().parents[2] / "infra" / "keycloak"
REALM_FILE = KEYCLOAK_DIR / "realm-motcua.json"
THEME_DIR = KEYCLOAK_DIR / "themes" / "motcua"
QUARKUS_PROPERTIES = KEYCLOAK_DIR / "quarkus.properties"
COMPONENT = "keycloak"
LOGIN = "keycloak"  # Keycloak's database login
CONSOLE_CLIENT = "motcua-console"
HTTP_PORT = 8080
MANAGEMENT_PORT = 9000  # health and metrics
KEYCLOAK_USER = 1000  # the official image's user


def realm_file() -> dict[str, Any]:
    return json.loads(REALM_FILE.read_text())


def audience(realm: dict[str, Any]) -> str:
    """The `aud` the realm's audience mapper puts in every access token: what the services require."""
    found = {
        mapper["config"]["included.custom.audience"]
        for scope in realm.get("clientScopes", [])
        for mapper in scope.get("protocolMappers", [])
        if mapper.get("protocolMapper") == "oidc-audience-mapper"
    }
    if len(found) != 1:
        raise ValueError(f"the realm file should name one audience, not {sorted(found)}")
    return found.pop()


def deployed_realm(values: Values) -> dict[str, Any]:
    """The realm file as deployed: its name from the values, and the console's client allowed to
    redirect to the console's public address only (the file's loopback addresses serve `make run`)."""
    realm = copy.deepcopy(realm_file())
    realm["realm"] = values.identity.realm
    consoles = [c for c in realm["clients"] if c["clientId"] == CONSOLE_CLIENT]
    if len(consoles) != 1:
        raise ValueError(f"the realm file should have one client {CONSOLE_CLIENT}")
    consoles[0]["redirectUris"] = [f"{values.web.public_url}/*"]
    consoles[0]["webOrigins"] = [values.web.public_url]
    return realm


def theme_files() -> dict[str, str]:
    """The login theme's files by their path inside the theme folder."""
    return {p.relative_to(THEME_DIR).as_posix(): p.read_text() for p in sorted(THEME_DIR.rglob("*")) if p.is_file()}


def config_key(path: str) -> str:
    """A ConfigMap key for a path (keys cannot hold '/'); the volume's items put it back."""
    return path.replace("/", "__")


def objects(values: Values) -> list[Object]:
    name = app_name(values, COMPONENT)
    realm = deployed_realm(values)
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata(values, f"{name}-realm", COMPONENT),
            "data": {f"realm-{values.identity.realm}.json": json.dumps(realm, ensure_ascii=False, indent=2)},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata(values, f"{name}-theme", COMPONENT),
            "data": {config_key(path): text for path, text in theme_files().items()},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata(values, f"{name}-conf", COMPONENT),
            "data": {"quarkus.properties": QUARKUS_PROPERTIES.read_text()},
        },
        deployment(values),
        cluster_service(values, COMPONENT, [("http", HTTP_PORT)]),
        disruption_budget(values, COMPONENT),
        ingress(values, COMPONENT, values.identity.host, HTTP_PORT),
    ]


def deployment(values: Values) -> Object:
    name = app_name(values, COMPONENT)
    admin = keycloak_admin_secret(values)
    env = [
        {"name": "KC_DB", "value": "postgres"},
        {"name": "KC_DB_URL_HOST", "value": postgres_host(values)},
        {"name": "KC_DB_URL_PORT", "value": str(POSTGRES_PORT)},
        {"name": "KC_DB_URL_DATABASE", "value": values.identity.database},
        secret_env("KC_DB_USERNAME", database_secret(values, LOGIN), "username"),
        secret_env("KC_DB_PASSWORD", database_secret(values, LOGIN), "password"),
        # Each replica's share of PostgreSQL's connections (postgres.maxConnections).
        {"name": "KC_DB_POOL_MAX_SIZE", "value": "20"},
        # TLS ends at the Ingress; tokens name the public address as their issuer.
        {"name": "KC_HOSTNAME", "value": f"https://{values.identity.host}"},
        {"name": "KC_HTTP_ENABLED", "value": "true"},
        {"name": "KC_PROXY_HEADERS", "value": "xforwarded"},
        {"name": "KC_HEALTH_ENABLED", "value": "true"},
        {"name": "KC_METRICS_ENABLED", "value": "true"},
        # The master realm's first administrator, made at the first start only.
        secret_env("KC_BOOTSTRAP_ADMIN_USERNAME", admin, "username"),
        secret_env("KC_BOOTSTRAP_ADMIN_PASSWORD", admin, "password"),
    ]
    theme_items = [{"key": config_key(path), "path": path} for path in theme_files()]
    container = {
        "name": COMPONENT,
        "image": values.identity.image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["start", "--import-realm"],
        "env": env,
        "ports": [
            {"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"},
            {"name": "management", "containerPort": MANAGEMENT_PORT, "protocol": "TCP"},
        ],
        **http_probes("/health/live", "/health/ready", "management", startup_seconds=300),
        "resources": resources(values.identity.resources),
        # The stock image builds itself for PostgreSQL at start, into its own folders: the root
        # file system stays writable (an image built beforehand could make it read-only).
        "securityContext": container_security(read_only_root=False),
        "volumeMounts": [
            {"name": "realm", "mountPath": "/opt/keycloak/data/import", "readOnly": True},
            {"name": "theme", "mountPath": "/opt/keycloak/themes/motcua", "readOnly": True},
            {"name": "conf", "mountPath": "/opt/keycloak/conf/quarkus.properties", "subPath": "quarkus.properties"},
        ],
    }
    startup = container["startupProbe"]
    startup["httpGet"] = {"path": "/health/started", "port": "management"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(values, name, COMPONENT),
        "spec": {
            "replicas": values.identity.replicas,
            "selector": {"matchLabels": selector(values, COMPONENT)},
            "template": {
                "metadata": {"labels": metadata(values, name, COMPONENT)["labels"]},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security(KEYCLOAK_USER),
                    "topologySpreadConstraints": spread(values, COMPONENT),
                    "containers": [container],
                    "volumes": [
                        {"name": "realm", "configMap": {"name": f"{name}-realm"}},
                        {"name": "theme", "configMap": {"name": f"{name}-theme", "items": theme_items}},
                        {"name": "conf", "configMap": {"name": f"{name}-conf"}},
                    ],
                },
            },
        },
    }
