"""Who may do what on the event backbone. Each service's login writes only its own stage topic
(and private streams: `services.events.topics.PRIVATE`) and the dead-letter topic, reads only the stages it reacts to (`CONSUMES`) and joins only its
own consumer groups (`<prefix>.<service>.*`); the brokers deny everything else (KRaft's
StandardAuthorizer with `allow.everyone.if.no.acl.found=false`). A deployment's topics and ACLs
are provisioned by the operator's login for its topic prefix (`provision`): `infra/` does it at
start, the tests for their own prefix."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from aiokafka.errors import for_code
from aiokafka.protocol.admin import CreateAclsRequest_v1
from aiokafka.protocol.api import Request

from services.events.topics import CONSUMES, SERVICES, all_topics, dead_letter_topic, own_topics, stage_topic
from services.kafka import TopicShape, create_admin, create_topics
from services.settings import KafkaAccess


class Resource(IntEnum):  # Kafka's wire codes
    TOPIC = 2
    GROUP = 3


class Pattern(IntEnum):
    LITERAL = 3
    PREFIXED = 4


class Operation(IntEnum):
    READ = 3
    WRITE = 4
    CREATE = 5
    DESCRIBE = 8


ALLOW = 3
ANY_HOST = "*"


@dataclass(frozen=True)
class Acl:
    resource: Resource
    name: str
    pattern: Pattern
    principal: str
    operation: Operation


def principal(service: str) -> str:
    return f"User:{service}"


def service_acls(prefix: str, service: str) -> list[Acl]:
    """What one service's login may do under a topic prefix."""
    who = principal(service)
    acls = [
        Acl(Resource.TOPIC, topic, Pattern.LITERAL, who, op)
        for topic in (*own_topics(prefix, service), dead_letter_topic(prefix))
        for op in (Operation.WRITE, Operation.DESCRIBE, Operation.CREATE)
    ]
    acls += [
        Acl(Resource.TOPIC, stage_topic(prefix, source), Pattern.LITERAL, who, op)
        for source in CONSUMES[service]
        for op in (Operation.READ, Operation.DESCRIBE)
    ]
    acls += [
        Acl(Resource.GROUP, f"{prefix}.{service}.", Pattern.PREFIXED, who, op) for op in (Operation.READ, Operation.DESCRIBE)
    ]
    return acls


def backbone_acls(prefix: str) -> list[Acl]:
    return [acl for service in SERVICES for acl in service_acls(prefix, service)]


class CreateAcls(Request[CreateAclsRequest_v1]):
    """Several ACLs in one CreateAcls request (aiokafka's own request class carries one)."""

    API_KEY = 30

    def __init__(self, acls: list[Acl]) -> None:
        self.acls = acls

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> CreateAclsRequest_v1:
        return request_struct_class(
            [(a.resource, a.name, a.pattern, a.principal, ANY_HOST, a.operation, ALLOW) for a in self.acls]
        )


async def grant(operator: KafkaAccess, acls: list[Acl]) -> None:
    """Create these ACLs (creating one that exists changes nothing), as the operator's login."""
    admin = create_admin(operator)
    await admin.start()
    try:
        # aiokafka has no public call for ACLs; its admin client sends any request.
        response = await admin._send_request(CreateAcls(acls))  # noqa: SLF001
    finally:
        await admin.close()
    for error_code, message in response.creation_responses:
        if error_code:
            raise for_code(error_code)(message)


async def provision(operator: KafkaAccess, prefix: str, shape: TopicShape) -> None:
    """A deployment's topics (shaped as `shape` says) and every service's ACLs on them, as the operator's login."""
    await create_topics(operator, all_topics(prefix), shape)
    await grant(operator, backbone_acls(prefix))
