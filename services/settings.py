"""Settings read from the environment, one class per service extending `ServiceSettings`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaAccess(BaseSettings):
    """How a process reaches the brokers: what every Kafka client of a service, and the tools, are given."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = Field("127.0.0.1:29092", validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        validation_alias="KAFKA_SECURITY_PROTOCOL",
        description="SASL_SSL: TLS to the brokers and a SCRAM-SHA-512 login (KAFKA_SASL_USERNAME/PASSWORD).",
    )
    kafka_ca_file: str | None = Field(
        None, validation_alias="KAFKA_CA_FILE", description="The CA (PEM) the brokers' certificates are checked against."
    )
    kafka_sasl_username: str | None = Field(None, validation_alias="KAFKA_SASL_USERNAME")
    kafka_sasl_password: SecretStr | None = Field(None, validation_alias="KAFKA_SASL_PASSWORD")


class ServiceSettings(KafkaAccess):
    service_name: str = "motcua"
    database_url: str = Field("postgresql+asyncpg://motcua@127.0.0.1:25432/motcua", validation_alias="DATABASE_URL")
    db_pool_size: int = Field(
        10, validation_alias="DB_POOL_SIZE", description="Database connections per process; callers past it wait their turn."
    )
    topic_prefix: str = Field("motcua", validation_alias="TOPIC_PREFIX")
    topic_partitions: int = Field(6, validation_alias="TOPIC_PARTITIONS")
    topic_replication_factor: int = Field(
        1, ge=1, validation_alias="TOPIC_REPLICATION_FACTOR", description="Copies of each partition (3 on a cluster)."
    )
    topic_min_insync_replicas: int = Field(
        1,
        ge=1,
        validation_alias="TOPIC_MIN_INSYNC_REPLICAS",
        description="Copies a write must reach before it is acknowledged (acks=all); 2 on a cluster.",
    )
    http_host: str = Field("127.0.0.1", validation_alias="HTTP_HOST")
    http_port: int = Field(8000, validation_alias="HTTP_PORT")
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
    # Delivery settings of the event backbone, named in one place.
    consumer_max_attempts: int = Field(5, validation_alias="CONSUMER_MAX_ATTEMPTS")
    consumer_retry_backoff_ms: int = Field(100, validation_alias="CONSUMER_RETRY_BACKOFF_MS")
    consumer_max_batch: int = Field(200, validation_alias="CONSUMER_MAX_BATCH")
    consumer_commit_interval_ms: int = Field(
        1000,
        validation_alias="CONSUMER_COMMIT_INTERVAL_MS",
        description="Longest wait before applied offsets are committed to Kafka.",
    )
    relay_batch_size: int = Field(500, validation_alias="RELAY_BATCH_SIZE")
    relay_poll_interval_ms: int = Field(500, validation_alias="RELAY_POLL_INTERVAL_MS")
    relay_lease_seconds: float = Field(
        10,
        gt=0,
        validation_alias="RELAY_LEASE_SECONDS",
        description="How long the outbox relay's leadership lasts unless renewed; another replica takes over after it.",
    )
    max_in_flight: int = Field(
        64, validation_alias="MAX_IN_FLIGHT", description="Requests in progress past which the API answers 503."
    )
    oidc_issuer: str = Field(
        validation_alias="OIDC_ISSUER",
        min_length=1,
        description="The identity provider's issuer URL (Keycloak: http://host/realms/motcua). Required: there is no open mode.",
    )
    oidc_audience: str = Field(
        "motcua-api", validation_alias="OIDC_AUDIENCE", description="The `aud` every access token must carry."
    )
    oidc_jwks_url: str | None = Field(
        None, validation_alias="OIDC_JWKS_URL", description="The issuer's keys; found through its discovery document when unset."
    )
    max_body_bytes: int = Field(1_048_576, validation_alias="MAX_BODY_BYTES", description="Larger request bodies answer 413.")
    # Personal data (services.personal_data): the keys come from PERSONAL_DATA_KEYS[_FILE], read by
    # the runtime; how long each data class is kept, and how often that is enforced, from here.
    retention_interval_seconds: float = Field(
        3600, gt=0, validation_alias="RETENTION_INTERVAL_SECONDS", description="How often the retention job runs."
    )
    retention_dead_letter_days: int = Field(
        14,
        ge=0,
        validation_alias="RETENTION_DEAD_LETTER_DAYS",
        description="Days a dead letter keeps its message (sealed, for replay); then only its error and place are kept.",
    )
    rotation_interval_seconds: float = Field(
        300, gt=0, validation_alias="ROTATION_INTERVAL_SECONDS", description="How often values under an older key are sought."
    )
