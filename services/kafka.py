"""Kafka clients with the project's delivery settings, named in one place.

Producer: acks=all and idempotence, so a retried send is neither lost nor duplicated by the
broker and a partition's order holds. Consumer: no auto-commit; offsets are committed only after
the database transaction that applied the messages has committed. With KAFKA_SECURITY_PROTOCOL
SASL_SSL every client speaks TLS, checks the brokers against KAFKA_CA_FILE and logs in with its
service's SCRAM-SHA-512 credentials; the brokers' ACLs then decide what it may do."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from services.events.topics import SERVICES, all_topics, dead_letter_topic, own_topics
from services.settings import KafkaAccess, ServiceSettings

SCRAM = "SCRAM-SHA-512"

log = logging.getLogger(__name__)


def connection_options(settings: KafkaAccess) -> dict[str, Any]:
    """How every client of this process reaches the brokers: the address, and TLS with a login when secured."""
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap_servers}
    if settings.kafka_security_protocol == "SASL_SSL":
        if not settings.kafka_sasl_username or settings.kafka_sasl_password is None:
            raise ValueError("KAFKA_SECURITY_PROTOCOL=SASL_SSL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
        options |= {
            "security_protocol": "SASL_SSL",
            "ssl_context": create_ssl_context(cafile=settings.kafka_ca_file),
            "sasl_mechanism": SCRAM,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": settings.kafka_sasl_password.get_secret_value(),
        }
    return options


def create_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        **connection_options(settings),
        client_id=f"{settings.service_name}-producer",
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        max_batch_size=262144,
        request_timeout_ms=15000,
        retry_backoff_ms=200,
    )


def create_consumer(settings: ServiceSettings, group_id: str, topics: list[str]) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        **connection_options(settings),
        client_id=f"{settings.service_name}-consumer",
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.consumer_max_batch,
        session_timeout_ms=10000,
        heartbeat_interval_ms=3000,
        metadata_max_age_ms=30000,
    )


def create_admin(access: KafkaAccess, request_timeout_ms: int = 15000) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(**connection_options(access), request_timeout_ms=request_timeout_ms)


@dataclass(frozen=True)
class TopicShape:
    partitions: int
    replication_factor: int
    min_insync_replicas: int

    @classmethod
    def of(cls, settings: ServiceSettings) -> TopicShape:
        return cls(settings.topic_partitions, settings.topic_replication_factor, settings.topic_min_insync_replicas)


async def create_topics(access: KafkaAccess, names: list[str], shape: TopicShape) -> None:
    """Create these topics where missing (idempotent; safe from every replica at once)."""
    admin = create_admin(access)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in names if t not in existing]
        if missing:
            topics = [
                NewTopic(
                    name=t,
                    num_partitions=shape.partitions,
                    replication_factor=shape.replication_factor,
                    topic_configs={"min.insync.replicas": str(shape.min_insync_replicas)},
                )
                for t in missing
            ]
            try:
                await admin.create_topics(topics)
            except TopicAlreadyExistsError:
                pass
            log.info("created topics %s", missing)
    finally:
        await admin.close()


async def ensure_topics(settings: ServiceSettings) -> None:
    """The topics this service writes, created if missing: its stage topic and the dead-letter
    topic, which its ACLs let it create (a process that is not one of the four makes them all)."""
    prefix = settings.topic_prefix
    own = own_topics(prefix, settings.service_name) if settings.service_name in SERVICES else all_topics(prefix)
    await create_topics(settings, list(dict.fromkeys([*own, dead_letter_topic(prefix)])), TopicShape.of(settings))
