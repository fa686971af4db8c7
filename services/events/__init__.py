"""The event envelope, the registry of versioned payload schemas, and topic names."""

from services.events import schemas
from services.events.envelope import Actor, Envelope, current_actor
from services.events.registry import Event, parse, registered, schema_for

__all__ = ["Actor", "Envelope", "current_actor", "Event", "parse", "registered", "schema_for", "schemas"]
