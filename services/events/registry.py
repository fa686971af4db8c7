"""Event types and their versioned payload schemas, registered in one place."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from services.events.envelope import Actor, Envelope, current_actor

_REGISTRY: dict[tuple[str, int], type[Event]] = {}

E = TypeVar("E", bound="Event")


class Event(BaseModel):
    """Base of every payload schema. Subclasses set `event_type` and `event_version`."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" in cls.__dict__:
            key = (cls.event_type, cls.event_version)
            if key in _REGISTRY:
                raise TypeError(f"event {key} registered twice")
            _REGISTRY[key] = cls

    def envelope(
        self,
        *,
        dossier_id: str,
        producer: str,
        correlation_id: UUID | None = None,
        causation: Envelope | None = None,
    ) -> Envelope:
        """Wrap this payload; with `causation`, the new event joins that event's flow."""
        envelope = Envelope(
            type=self.event_type,
            version=self.event_version,
            dossier_id=dossier_id,
            correlation_id=correlation_id or (causation.correlation_id if causation else UUID(int=0)),
            causation_id=causation.event_id if causation else None,
            producer=producer,
            actor=current_actor.get() or Actor.service(producer),
            payload=self.model_dump(mode="json"),
        )
        if envelope.correlation_id.int == 0:  # the first event of a flow correlates with itself
            envelope = envelope.model_copy(update={"correlation_id": envelope.event_id})
        return envelope


def schema_for(event_type: str, version: int) -> type[Event]:
    try:
        return _REGISTRY[(event_type, version)]
    except KeyError:
        raise LookupError(f"unknown event {event_type} v{version}") from None


def parse(envelope: Envelope, expected: type[E]) -> E:
    """The typed payload of an envelope, validated against its registered schema."""
    schema = schema_for(envelope.type, envelope.version)
    if not issubclass(schema, expected):
        raise TypeError(f"{envelope.type} v{envelope.version} is not a {expected.__name__}")
    return schema.model_validate(envelope.payload)  # type: ignore[return-value]


def registered() -> dict[tuple[str, int], type[Event]]:
    return dict(_REGISTRY)
