"""Who a use case acts for: the actor its events, timeline entries and audit rows name.

A request's caller is the actor already (`services.identity.authenticated` sets it from the
token); a use case narrows it to the dossier's unit, or stands in for the citizen on the public
endpoints, for as long as it records what was done."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from services.events import Actor, current_actor


def officer_at(actor: Actor, unit: str) -> Actor:
    """An officer acts on a dossier for the unit that received it: a counter officer may serve
    several units, and the province administrator acts for the unit whose dossier it is."""
    return actor.model_copy(update={"unit": unit}) if actor.kind == "officer" else actor


APPLICANT = "Người nộp hồ sơ"


def citizen(row: Mapping[str, Any]) -> Actor:
    """The applicant, known by the dossier's code and the secret on their receipt. Named by that
    role, not by their name: the actor travels with every event to every consumer, and the name
    is personal data none of them needs from there."""
    return Actor(kind="citizen", subject=row["code"], name=APPLICANT)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Events emitted and reads audited inside the block name `actor`."""
    token = current_actor.set(actor)
    try:
        yield actor
    finally:
        current_actor.reset(token)
