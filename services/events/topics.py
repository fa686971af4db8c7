"""Topic names. Each service publishes to its own stage topic; consumers subscribe to the
stages they react to. A prefix keeps deployments (and test runs) apart on one broker.

A private stream is a topic one service writes for one other alone: the applicant's contact
(`contacts`) goes from intake to notify there, sealed, and no other service may read it."""

from __future__ import annotations

SERVICES = ("intake", "routing", "deadline", "notify")
# The stages each service reacts to: its subscriptions read these and nothing else, and the
# brokers' ACLs (`services.kafka_acls`) let it read these and nothing else.
CONSUMES = {
    "intake": ("routing", "deadline", "notify"),
    "routing": ("intake",),
    "deadline": ("intake", "routing"),
    "notify": ("intake", "contacts", "routing", "deadline"),
}
# Private streams: name → the service that writes it (its readers are named in CONSUMES).
PRIVATE = {"contacts": "intake"}


def stage_topic(prefix: str, service: str) -> str:
    """A service's stage topic, or a private stream's topic."""
    if service in PRIVATE:
        return f"{prefix}.{PRIVATE[service]}.{service}"
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}")
    return f"{prefix}.{service}.events"


def own_topics(prefix: str, service: str) -> list[str]:
    """What a service writes besides dead letters: its stage topic and its private streams."""
    return [stage_topic(prefix, service)] + [stage_topic(prefix, s) for s, writer in PRIVATE.items() if writer == service]


def dead_letter_topic(prefix: str) -> str:
    return f"{prefix}.dead-letters"


def all_topics(prefix: str) -> list[str]:
    return [t for s in SERVICES for t in own_topics(prefix, s)] + [dead_letter_topic(prefix)]
