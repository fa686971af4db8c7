"""Names, labels and pod settings every rendered object shares. Names other objects (and the
operators) derive are defined here once, so a Secret's or a Service's name is never spelt twice."""

from __future__ import annotations

from typing import Any

from deploy.kubernetes.values import Resources, Storage, Values

Object = dict[str, Any]

# The SCRAM login's listener. Strimzi names the bootstrap Service and the cluster CA's Secret.
KAFKA_TLS_PORT = 9093
KAFKA_CA_DIR = "/etc/motcua/kafka-ca"
POSTGRES_PORT = 5432
NOBODY = 65534  # the images' `USER nobody`, numeric so that runAsNonRoot can be checked


def metadata(values: Values, name: str, component: str, **extra: Any) -> Object:
    return {
        "name": name,
        "namespace": values.namespace,
        "labels": {**selector(values, component), "app.kubernetes.io/part-of": values.name},
        **extra,
    }


def selector(values: Values, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": component, "app.kubernetes.io/instance": values.name}


def app_name(values: Values, component: str) -> str:
    """A service's (or the console's, or Keycloak's) Deployment, Service, ConfigMap and PDB."""
    return f"{values.name}-{component}"


def database_secret(values: Values, login: str) -> str:
    """The kubernetes.io/basic-auth Secret of a database login: CloudNativePG sets the login's
    password from it, and the service reads the same password."""
    return f"{values.name}-db-{login}"


def extra_env_secret(values: Values, component: str) -> str:
    """An optional Secret whose keys become more environment of that service (LGSP, SMS, SMTP secrets)."""
    return f"{values.name}-{component}-env"


def personal_data_secret(values: Values, service: str) -> str:
    """A service's personal-data keys (`services.personal_data.rings`): its ring (`keys`), and for
    intake the blind-index key (`index-key`); `contacts` names the ring intake and notify share."""
    return f"{values.name}-personal-data-{service}"


def web_secret(values: Values) -> str:
    return f"{values.name}-web"


def keycloak_admin_secret(values: Values) -> str:
    return f"{values.name}-keycloak-admin"


def kafka_bootstrap(values: Values) -> str:
    return f"{values.kafka.cluster}-kafka-bootstrap.{values.namespace}.svc:{KAFKA_TLS_PORT}"


def kafka_ca_secret(values: Values) -> str:
    return f"{values.kafka.cluster}-cluster-ca-cert"


def postgres_host(values: Values) -> str:
    """CloudNativePG's read-write Service: always the current primary."""
    return f"{values.postgres.cluster}-rw.{values.namespace}.svc"


def resources(spec: Resources) -> Object:
    return {key: dict(value) for key, value in (("requests", spec.requests), ("limits", spec.limits)) if value}


def storage_class(storage: Storage) -> Object:
    return {"storageClass": storage.storage_class} if storage.storage_class else {}


def pod_security(user: int) -> Object:
    return {
        "runAsNonRoot": True,
        "runAsUser": user,
        "runAsGroup": user,
        "fsGroup": user,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security(read_only_root: bool) -> Object:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": read_only_root,
        "capabilities": {"drop": ["ALL"]},
    }


def spread(values: Values, component: str) -> list[Object]:
    """Replicas on different nodes where the cluster can, so one node's loss leaves one serving."""
    return [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector(values, component)},
        }
    ]


def disruption_budget(values: Values, component: str) -> Object:
    """At most one replica away at a time for a voluntary disruption (a node drain)."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(values, app_name(values, component), component),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(values, component)}},
    }


def cluster_service(values: Values, component: str, ports: list[tuple[str, int]]) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(values, app_name(values, component), component),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(values, component),
            "ports": [{"name": name, "port": port, "targetPort": name, "protocol": "TCP"} for name, port in ports],
        },
    }


def ingress(values: Values, component: str, host: str, port: int) -> Object:
    spec: Object = {
        "rules": [
            {
                "host": host,
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": app_name(values, component), "port": {"number": port}}},
                        }
                    ]
                },
            }
        ]
    }
    if values.ingress.class_name:
        spec["ingressClassName"] = values.ingress.class_name
    if values.ingress.tls_secret:
        spec["tls"] = [{"hosts": [host], "secretName": values.ingress.tls_secret}]
    meta = metadata(values, app_name(values, component), component)
    if values.ingress.annotations:
        meta["annotations"] = dict(values.ingress.annotations)
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": spec}


def http_probes(path_live: str, path_ready: str, port: str, startup_seconds: int) -> Object:
    """Startup (allows for migrations or a first build), liveness and readiness over HTTP."""
    return {
        "startupProbe": {
            "httpGet": {"path": path_live, "port": port},
            "periodSeconds": 5,
            "timeoutSeconds": 3,
            "failureThreshold": startup_seconds // 5,
        },
        "livenessProbe": {
            "httpGet": {"path": path_live, "port": port},
            "periodSeconds": 10,
            "timeoutSeconds": 3,
            "failureThreshold": 3,
        },
        "readinessProbe": {
            "httpGet": {"path": path_ready, "port": port},
            "periodSeconds": 5,
            "timeoutSeconds": 3,
            "failureThreshold": 2,
        },
    }


def secret_env(name: str, secret: str, key: str) -> Object:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
