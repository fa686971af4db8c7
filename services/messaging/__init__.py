"""The event backbone: transactional outbox, its Kafka relay, the idempotent consumer, dead letters."""

from services.messaging.consumer import Handler, IdempotentConsumer, Subscription
from services.messaging.outbox import Outbox
from services.messaging.relay import OutboxRelay
from services.messaging.tables import MessagingTables, messaging_tables

__all__ = ["Handler", "IdempotentConsumer", "MessagingTables", "Outbox", "OutboxRelay", "Subscription", "messaging_tables"]
