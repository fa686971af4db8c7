"""The envelope every event travels in, whatever its type."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

ActorKind = Literal["officer", "agency-system", "citizen", "lgsp", "portal", "service"]


class Actor(BaseModel):
    """Who caused an event: an officer (from their token), an agency's system, a citizen (with the
    dossier's receipt secret), the LGSP, the provincial portal, or the service itself (a consumer
    applying another event, a timer)."""

    model_config = ConfigDict(frozen=True)

    kind: ActorKind = Field(
        description="What sort of actor: an officer, an agency's system, a citizen, the LGSP, the provincial portal, or a service."
    )
    subject: str = Field(description="The identity provider's subject id; the service's name for `service`.")
    name: str = Field(description="Display name, as the control sheet and the audit show it.")
    unit: str | None = Field(None, description="The unit or agency code the actor acted for, when one applies.")

    @classmethod
    def service(cls, name: str) -> Actor:
        return cls(kind="service", subject=name, name=name)


# Who the code running now acts for; set from the caller's token for a request. Unset (a consumer,
# a worker) the actor is the service itself.
current_actor: ContextVar[Actor | None] = ContextVar("current_actor", default=None)


class Envelope(BaseModel):
    """One event on the backbone. The Kafka message key is `dossier_id`, so each consumer sees a
    dossier's events in the order they were committed."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID = Field(default_factory=uuid4, description="Unique id of this event; consumers use it to drop duplicates.")
    type: str = Field(description="Event type, e.g. `dossier.received`.")
    version: int = Field(ge=1, description="Schema version of the payload.")
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC), description="UTC.")
    dossier_id: str = Field(description="The dossier this event is about; the partition key.")
    correlation_id: UUID = Field(description="Shared by every event of one flow (the first event's id).")
    causation_id: UUID | None = Field(None, description="The event (or request) that caused this one.")
    producer: str = Field(description="The service that produced the event.")
    actor: Actor | None = Field(None, description="Who caused the event (absent in events written before actors were recorded).")
    payload: dict[str, Any] = Field(
        description="The event's payload, as the JSON Schema of its `type` and `version` describes it."
    )

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        return cls.model_validate_json(data)
