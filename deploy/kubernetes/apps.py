"""The four services and the web console: a ConfigMap of settings, a Deployment, a Service and a
PodDisruptionBudget each, and the console's Ingress.

Every setting that ties a service to the rest of the deployment is derived here, never typed
twice: its database login and schema (CloudNativePG's read-write Service, the login's Secret),
its Kafka login (the Secret Strimzi's user operator writes for the `KafkaUser` of the same name),
the brokers' CA (the Secret Strimzi keeps the cluster CA in), the topics' prefix and shape, the
issuer and audience of the realm, and the console's public address. The values' `env` adds
settings of a service's own; it cannot change a derived one."""

from __future__ import annotations

from deploy.kubernetes.common import (
    KAFKA_CA_DIR,
    NOBODY,
    POSTGRES_PORT,
    Object,
    app_name,
    cluster_service,
    container_security,
    database_secret,
    disruption_budget,
    extra_env_secret,
    http_probes,
    ingress,
    kafka_bootstrap,
    kafka_ca_secret,
    metadata,
    personal_data_secret,
    pod_security,
    postgres_host,
    resources,
    secret_env,
    selector,
    spread,
    web_secret,
)
from deploy.kubernetes.identity import COMPONENT as KEYCLOAK
from deploy.kubernetes.identity import CONSOLE_CLIENT, HTTP_PORT, audience, realm_file
from deploy.kubernetes.values import Resources, Values
from services.events.topics import SERVICES
from services.personal_data.rings import CONTACT_HOLDERS, INDEX_HOLDERS

WEB = "web"
# The console's look-up page, which the receipt's QR code and the notices' link open.
LOOKUP_PATH = "/tra-cuu?ma={code}&ms={secret}"
# Each process writes only under /tmp (an emptyDir): the root file system is read-only.
SCRATCH = "/tmp"
# Set in each Deployment from Secrets (beside the ConfigMap): derived too.
SERVICE_SECRETS = ("DB_PASSWORD", "DATABASE_URL", "KAFKA_SASL_PASSWORD")
PERSONAL_DATA_SECRETS = ("PERSONAL_DATA_KEYS", "PERSONAL_DATA_INDEX_KEY", "CONTACT_KEYS")
WEB_SECRETS = ("WEB_SESSION_KEY",)


def kafka_user(service: str) -> str:
    """The `KafkaUser` (and so the SCRAM login, the principal `User:<name>` and the Secret holding
    its password) of a service: the service's own name, as `services.kafka_acls.principal` has it."""
    return service


def service_settings(values: Values, service: str) -> dict[str, str]:
    """The settings of one service that its ConfigMap holds (the secrets are referenced apart)."""
    component = values.services.component(service)
    kafka = values.kafka
    derived = {
        "HTTP_HOST": "0.0.0.0",
        "HTTP_PORT": str(component.port),
        "TOPIC_PREFIX": kafka.topic_prefix,
        "TOPIC_PARTITIONS": str(kafka.partitions),
        "TOPIC_REPLICATION_FACTOR": str(kafka.replication_factor),
        "TOPIC_MIN_INSYNC_REPLICAS": str(kafka.min_insync_replicas),
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap(values),
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_CA_FILE": f"{KAFKA_CA_DIR}/ca.crt",
        "KAFKA_SASL_USERNAME": kafka_user(service),
        "OIDC_ISSUER": values.identity.issuer,
        "OIDC_AUDIENCE": audience(realm_file()),
        # The keys over the cluster's own network: no round trip out through the Ingress.
        "OIDC_JWKS_URL": (
            f"http://{app_name(values, KEYCLOAK)}.{values.namespace}.svc:{HTTP_PORT}"
            f"/realms/{values.identity.realm}/protocol/openid-connect/certs"
        ),
    }
    defaults = {"LOG_LEVEL": values.services.log_level, **tracing_settings(values)}
    if service == "intake":
        defaults["INTAKE_PUBLIC_BASE_URL"] = values.web.public_url
    if service == "notify":
        defaults["NOTIFY_LOOKUP_URL"] = values.web.public_url + LOOKUP_PATH
        defaults["NOTIFY_SINK_PATH"] = f"{SCRATCH}/notices.jsonl"  # used only while no SMS gateway or SMTP is set
    return {
        **defaults,
        **own_env(component.env, {*derived, *SERVICE_SECRETS, *PERSONAL_DATA_SECRETS}, f"services.{service}.env"),
        **derived,
    }


def web_settings(values: Values) -> dict[str, str]:
    derived = {
        "HTTP_HOST": "0.0.0.0",
        "HTTP_PORT": str(values.web.port),
        "OIDC_ISSUER": values.identity.issuer,
        "OIDC_AUDIENCE": audience(realm_file()),
        "WEB_OIDC_CLIENT_ID": CONSOLE_CLIENT,
        "WEB_PUBLIC_URL": values.web.public_url,
        **{
            f"{service.upper()}_URL": f"http://{app_name(values, service)}.{values.namespace}.svc:{values.services.component(service).port}"
            for service in SERVICES
        },
    }
    defaults = {
        "LOG_LEVEL": values.services.log_level,
        "WEB_FORM_PLACE": values.web.form_place,
        "XDG_CACHE_HOME": f"{SCRATCH}/.cache",  # fontconfig's cache, for the PDF forms
        **tracing_settings(values),
    }
    return {**defaults, **own_env(values.web.env, {*derived, *WEB_SECRETS}, "web.env"), **derived}


def tracing_settings(values: Values) -> dict[str, str]:
    """Where spans go, when an OTLP endpoint is given (none: no traces). Each process names itself
    (`service.name`), so no OTEL_SERVICE_NAME is set; `env` may still add the SDK's other variables."""
    endpoint = values.tracing.otlp_endpoint
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint} if endpoint else {}


def own_env(env: dict[str, str], derived: set[str], where: str) -> dict[str, str]:
    clash = sorted(set(env) & set(derived))
    if clash:
        raise ValueError(f"{where} cannot set {', '.join(clash)}: the renderer derives it from the other values")
    return dict(env)


def objects(values: Values) -> list[Object]:
    rendered: list[Object] = []
    for service in SERVICES:
        port = values.services.component(service).port
        db_password, database_url, kafka_password = SERVICE_SECRETS
        env = [
            secret_env(db_password, database_secret(values, service), "password"),
            {
                "name": database_url,
                "value": f"postgresql+asyncpg://{service}:$({db_password})@{postgres_host(values)}:{POSTGRES_PORT}/{values.postgres.database}",
            },
            secret_env(kafka_password, kafka_user(service), "password"),
            *personal_data_env(values, service),
        ]
        rendered += [
            config_map(values, service, service_settings(values, service)),
            deployment(values, service, values.services.replicas, values.services.resources, port, env, kafka=True),
            cluster_service(values, service, [("http", port)]),
            disruption_budget(values, service),
        ]
    rendered += [
        config_map(values, WEB, web_settings(values)),
        deployment(
            values,
            WEB,
            values.web.replicas,
            values.web.resources,
            values.web.port,
            [secret_env(WEB_SECRETS[0], web_secret(values), "session-key")],
            kafka=False,
        ),
        cluster_service(values, WEB, [("http", values.web.port)]),
        disruption_budget(values, WEB),
        ingress(values, WEB, values.web.host, values.web.port),
    ]
    return rendered


def personal_data_env(values: Values, service: str) -> list[Object]:
    """Each service's own key ring, and the index and contact keys only where they are used."""
    keys, index_key, contact_keys = PERSONAL_DATA_SECRETS
    env = [secret_env(keys, personal_data_secret(values, service), "keys")]
    if service in INDEX_HOLDERS:
        env.append(secret_env(index_key, personal_data_secret(values, service), "index-key"))
    if service in CONTACT_HOLDERS:
        env.append(secret_env(contact_keys, personal_data_secret(values, "contacts"), "keys"))
    return env


def config_map(values: Values, component: str, settings: dict[str, str]) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(values, app_name(values, component), component),
        "data": settings,
    }


def deployment(
    values: Values, component: str, replicas: int, spec: Resources, port: int, env: list[Object], *, kafka: bool
) -> Object:
    name = app_name(values, component)
    mounts = [{"name": "scratch", "mountPath": SCRATCH}]
    volumes: list[Object] = [{"name": "scratch", "emptyDir": {"sizeLimit": "256Mi"}}]
    if kafka:
        mounts.append({"name": "kafka-ca", "mountPath": KAFKA_CA_DIR, "readOnly": True})
        volumes.append(
            {
                "name": "kafka-ca",
                "secret": {"secretName": kafka_ca_secret(values), "items": [{"key": "ca.crt", "path": "ca.crt"}]},
            }
        )
    container = {
        "name": component,
        "image": values.image.of(component),
        "imagePullPolicy": values.image.pull_policy,
        "command": ["python", "-m", component, "serve"],
        "envFrom": [
            {"configMapRef": {"name": name}},
            # More settings of the service's own that are secrets (LGSP, portal, SMS, SMTP): optional.
            {"secretRef": {"name": extra_env_secret(values, component), "optional": True}},
        ],
        "env": env,
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        # Migrations run before the API answers: the startup probe gives them five minutes.
        **http_probes("/healthz", "/readyz", "http", startup_seconds=300),
        "resources": resources(spec),
        "securityContext": container_security(read_only_root=True),
        "volumeMounts": mounts,
    }
    pod: Object = {
        "automountServiceAccountToken": False,
        "securityContext": pod_security(NOBODY),
        "topologySpreadConstraints": spread(values, component),
        "terminationGracePeriodSeconds": 30,
        "containers": [container],
        "volumes": volumes,
    }
    if values.image.pull_secrets:
        pod["imagePullSecrets"] = [{"name": secret} for secret in values.image.pull_secrets]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(values, name, component),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector(values, component)},
            # A new replica is ready before an old one goes: the API keeps answering during a rollout.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {"metadata": {"labels": metadata(values, name, component)["labels"]}, "spec": pod},
        },
    }
