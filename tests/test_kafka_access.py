"""Each service reaches Kafka over TLS with its own SCRAM login, and the brokers' ACLs let it do
only its part: write its own stage topic and the dead-letter topic, read the stages it reacts to,
join its own consumer groups. Everything else is refused, as is a client without a valid login or
without TLS. Over the real broker, with the logins `make run` gives the services."""

from __future__ import annotations

import asyncio
import json
import ssl
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from conftest import kafka_options
from infra.stack import KAFKA_LOGINS_FILE
from services.events.topics import CONSUMES, SERVICES, dead_letter_topic, stage_topic


def as_login(env: dict[str, str], login: str, password: str | None = None) -> dict[str, Any]:
    logins = json.loads(Path(env[KAFKA_LOGINS_FILE]).read_text())
    return kafka_options(env | {"KAFKA_SASL_USERNAME": login, "KAFKA_SASL_PASSWORD": password or logins[login]})


async def write(options: dict[str, Any], topic: str) -> None:
    producer = AIOKafkaProducer(**options, acks="all", enable_idempotence=True, request_timeout_ms=5000)
    try:
        await producer.start()
        await producer.send_and_wait(topic, b"{}", key=b"probe")
    finally:
        await producer.stop()


async def read(options: dict[str, Any], topic: str, group: str) -> None:
    """Join `group` and fetch from `topic`: an authorisation failure surfaces on the first fetch."""
    consumer = AIOKafkaConsumer(topic, **options, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False)
    try:
        await consumer.start()
        await consumer.getmany(timeout_ms=3000)
        await consumer.getmany(timeout_ms=1000)
    finally:
        await consumer.stop()


@pytest.fixture(scope="module")
def env(migrated: dict[str, str]) -> dict[str, str]:
    if migrated.get("KAFKA_SECURITY_PROTOCOL") != "SASL_SSL":
        pytest.skip("a Kafka given from outside is used as it is")
    return migrated


async def test_a_service_writes_its_own_stage_and_dead_letters_and_no_other_stage(env: dict[str, str]) -> None:
    prefix = env["TOPIC_PREFIX"]
    for service in SERVICES:
        options = as_login(env, service)
        await write(options, stage_topic(prefix, service))
        await write(options, dead_letter_topic(prefix))
        for other in SERVICES:
            if other != service:
                with pytest.raises(TopicAuthorizationFailedError):  # e.g. a forged dossier.refused
                    await write(options, stage_topic(prefix, other))


async def test_a_service_reads_only_the_stages_it_reacts_to_in_its_own_groups(env: dict[str, str]) -> None:
    prefix = env["TOPIC_PREFIX"]
    for service in SERVICES:
        options = as_login(env, service)
        own_group = f"{prefix}.{service}.probe-{uuid.uuid4().hex[:6]}"
        for source in CONSUMES[service]:
            await read(options, stage_topic(prefix, source), own_group)
        for other in SERVICES:
            if other not in CONSUMES[service]:
                with pytest.raises(TopicAuthorizationFailedError):
                    await read(options, stage_topic(prefix, other), own_group)
        another_group = f"{prefix}.{next(s for s in SERVICES if s != service)}.probe"
        with pytest.raises(GroupAuthorizationFailedError):
            await read(options, stage_topic(prefix, CONSUMES[service][0]), another_group)


async def test_the_contacts_stream_is_written_by_intake_and_read_by_notify_alone(env: dict[str, str]) -> None:
    """The applicant's contact goes to notify and nowhere else, even sealed."""
    prefix = env["TOPIC_PREFIX"]
    contacts = stage_topic(prefix, "contacts")
    await write(as_login(env, "intake"), contacts)
    await read(as_login(env, "notify"), contacts, f"{prefix}.notify.probe-{uuid.uuid4().hex[:6]}")
    for service in ("routing", "deadline", "notify"):
        with pytest.raises(TopicAuthorizationFailedError):
            await write(as_login(env, service), contacts)
    for service in ("routing", "deadline", "intake"):
        with pytest.raises(TopicAuthorizationFailedError):
            await read(as_login(env, service), contacts, f"{prefix}.{service}.probe-{uuid.uuid4().hex[:6]}")


async def test_without_a_valid_login_or_without_tls_nothing_is_accepted(env: dict[str, str]) -> None:
    topic = stage_topic(env["TOPIC_PREFIX"], "routing")
    with pytest.raises(KafkaError):  # a wrong password: SCRAM authentication fails
        await asyncio.wait_for(write(as_login(env, "routing", password="not-its-password"), topic), 30)
    plaintext = {"bootstrap_servers": env["KAFKA_BOOTSTRAP_SERVERS"]}
    with pytest.raises((KafkaConnectionError, KafkaError, asyncio.TimeoutError)):  # the listener speaks TLS only
        await asyncio.wait_for(write(plaintext, topic), 20)
    untrusted = as_login(env, "routing") | {"ssl_context": ssl.create_default_context()}  # not our CA
    with pytest.raises((KafkaConnectionError, KafkaError, asyncio.TimeoutError)):
        await asyncio.wait_for(write(untrusted, topic), 20)
