"""The envelope every event travels in, whatever its type."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field


class Envelope(BaseModel):
    """One event on the backbone. The Kafka message key is `dossier_id`, so each consumer sees a
    dossier's events in the order they were committed."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID = Field(default_factory=uuid4)
    type: str = Field(description="Event type, e.g. `dossier.received`.")
    version: int = Field(ge=1, description="Schema version of the payload.")
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC), description="UTC.")
    dossier_id: str = Field(description="The dossier this event is about; the partition key.")
    correlation_id: UUID = Field(description="Shared by every event of one flow (the first event's id).")
    causation_id: UUID | None = Field(None, description="The event (or request) that caused this one.")
    producer: str = Field(description="The service that produced the event.")
    payload: dict[str, Any]

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        return cls.model_validate_json(data)
