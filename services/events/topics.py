"""Topic names. Each service publishes to its own stage topic; consumers subscribe to the
stages they react to. A prefix keeps deployments (and test runs) apart on one broker."""

from __future__ import annotations

SERVICES = ("intake", "routing", "deadline", "notify")
# The stages each service reacts to: its subscriptions read these and nothing else, and the
# brokers' ACLs (`services.kafka_acls`) let it read these and nothing else.
CONSUMES = {
    "intake": ("routing", "deadline", "notify"),
    "routing": ("intake",),
    "deadline": ("intake", "routing"),
    "notify": ("intake", "routing", "deadline"),
}


def stage_topic(prefix: str, service: str) -> str:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}")
    return f"{prefix}.{service}.events"


def dead_letter_topic(prefix: str) -> str:
    return f"{prefix}.dead-letters"


def all_topics(prefix: str) -> list[str]:
    return [stage_topic(prefix, s) for s in SERVICES] + [dead_letter_topic(prefix)]
