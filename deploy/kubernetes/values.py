"""The values a Kubernetes rendering is made from: one YAML file (`values.yaml` beside this module
is the documented default), read into typed settings so that a misspelt or misplaced key is an
error rather than a silently ignored line. Keys are camelCase, as in Helm charts' values."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

DEFAULT_VALUES = Path(__file__).resolve().parent / "values.yaml"
# What Kubernetes accepts as an object name (RFC 1123 label), and what Kafka accepts in a topic name.
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
TOPIC_CHARS = r"^[a-zA-Z0-9._-]+$"
PG_NAME = r"^[a-z_][a-z0-9_]*$"  # a PostgreSQL name that needs no quoting


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class Resources(Model):
    requests: dict[str, str] = Field(default_factory=dict)
    limits: dict[str, str] = Field(default_factory=dict)


class Storage(Model):
    size: str
    storage_class: str | None = Field(None, description="Empty: the cluster's default StorageClass.")


class Image(Model):
    registry: str
    tag: str
    pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    pull_secrets: list[str] = Field(default_factory=list)

    def of(self, component: str) -> str:
        return f"{self.registry}/motcua-{component}:{self.tag}"


class Component(Model):
    port: int = Field(ge=1024, le=65535)
    env: dict[str, str] = Field(default_factory=dict, description="More settings of this service, as its environment.")


class Services(Model):
    replicas: int = Field(ge=1)
    log_level: str
    resources: Resources
    intake: Component
    routing: Component
    deadline: Component
    notify: Component

    def component(self, name: str) -> Component:
        return getattr(self, name)


class Web(Model):
    replicas: int = Field(ge=1)
    port: int = Field(ge=1024, le=65535)
    host: str
    form_place: str = ""
    resources: Resources
    env: dict[str, str] = Field(default_factory=dict)

    @property
    def public_url(self) -> str:
        return f"https://{self.host}"


class Ingress(Model):
    class_name: str | None = None
    tls_secret: str | None = Field(None, description="A Secret of type kubernetes.io/tls for both hosts; none: no tls block.")
    annotations: dict[str, str] = Field(default_factory=dict)


class Identity(Model):
    image: str
    replicas: int = Field(ge=1)
    host: str
    realm: str
    database: str = Field(pattern=PG_NAME)
    resources: Resources

    @property
    def issuer(self) -> str:
        return f"https://{self.host}/realms/{self.realm}"


class Kafka(Model):
    cluster: str = Field(pattern=DNS_LABEL)
    version: str | None = Field(None, description="Kafka's version; empty: the Strimzi operator's default.")
    brokers: int = Field(ge=1)
    topic_prefix: str = Field(pattern=TOPIC_CHARS)
    partitions: int = Field(ge=1)
    replication_factor: int = Field(ge=1)
    min_insync_replicas: int = Field(ge=1)
    storage: Storage
    resources: Resources

    @model_validator(mode="after")
    def _replication(self) -> Kafka:
        if self.replication_factor > self.brokers:
            raise ValueError(f"replicationFactor {self.replication_factor} needs as many brokers (brokers: {self.brokers})")
        if self.min_insync_replicas > self.replication_factor:
            raise ValueError("minInsyncReplicas cannot exceed replicationFactor: no write could ever be acknowledged")
        return self


class Postgres(Model):
    cluster: str = Field(pattern=DNS_LABEL)
    instances: int = Field(ge=1)
    image: str
    database: str = Field(pattern=PG_NAME)
    max_connections: int = Field(ge=20)
    storage: Storage
    resources: Resources


class Tracing(Model):
    otlp_endpoint: str = Field(
        "", description="OTLP over HTTP, e.g. http://otel-collector.observability.svc:4318; empty: no traces."
    )

    @field_validator("otlp_endpoint")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"tracing.otlpEndpoint must be an http:// or https:// URL, not {value!r}")
        return value


class Values(Model):
    name: str = Field(pattern=DNS_LABEL)
    namespace: str = Field(pattern=DNS_LABEL)
    create_namespace: bool = True
    image: Image
    services: Services
    web: Web
    ingress: Ingress
    identity: Identity
    kafka: Kafka
    postgres: Postgres
    tracing: Tracing = Tracing()

    @model_validator(mode="after")
    def _databases_apart(self) -> Values:
        if self.identity.database == self.postgres.database:
            raise ValueError("identity.database must differ from postgres.database: Keycloak keeps a database of its own")
        return self

    @field_validator("name")
    @classmethod
    def _short(cls, value: str) -> str:
        if len(value) > 30:  # leaves room for "-deadline-env" and the like within 63 characters
            raise ValueError("name is at most 30 characters")
        return value


def set_path(tree: dict[str, Any], dotted: str, raw: str) -> None:
    """`a.b.c=value` on a values tree (the value read as YAML: numbers, booleans, lists stay typed)."""
    *parents, leaf = dotted.split(".")
    node = tree
    for key in parents:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ValueError(f"{dotted}: {key} is not a mapping")
    node[leaf] = yaml.safe_load(raw) if raw.strip() else ""


def load_values(path: Path = DEFAULT_VALUES, overrides: list[str] | None = None) -> Values:
    tree = yaml.safe_load(path.read_text()) or {}
    for override in overrides or []:
        key, sep, raw = override.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z0-9_.]+", key):
            raise ValueError(f"--set takes key.path=value, not {override!r}")
        set_path(tree, key, raw)
    return Values.model_validate(tree)
