"""The envelope and the schema registry (no infrastructure)."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from services.events import Envelope, parse
from services.events.__main__ import DOCS, render
from services.events.schemas import DeadlineTracked, StepAssigned


def step_assigned() -> StepAssigned:
    return StepAssigned(
        step_id="residence",
        agency_code="CA-XA",
        agency_name="Công an xã",
        budget_hours=16,
        assigned_at=datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
    )


def test_envelope_round_trips_through_bytes_with_its_typed_payload() -> None:
    envelope = step_assigned().envelope(dossier_id="d-1", producer="routing")
    again = Envelope.from_bytes(envelope.to_bytes())
    assert again == envelope
    assert parse(again, StepAssigned).agency_name == "Công an xã"


def test_first_event_of_a_flow_correlates_with_itself_and_followers_inherit_it() -> None:
    first = step_assigned().envelope(dossier_id="d-1", producer="routing")
    assert first.correlation_id == first.event_id and first.causation_id is None
    follower = DeadlineTracked(
        scope="step", step_id="residence", started_at=first.occurred_at, due_at=first.occurred_at, budget_hours=16
    ).envelope(dossier_id="d-1", producer="deadline", causation=first)
    assert follower.correlation_id == first.event_id
    assert follower.causation_id == first.event_id


def test_parse_refuses_a_payload_of_another_type() -> None:
    envelope = step_assigned().envelope(dossier_id="d-1", producer="routing")
    with pytest.raises(TypeError):
        parse(envelope, DeadlineTracked)


def test_published_json_schemas_match_the_code() -> None:
    """docs/events/ is what other teams read: regenerate with `make event-docs` when schemas change."""
    expected = render()
    on_disk = {p.name: p.read_text() for p in DOCS.glob("*.json")}
    assert on_disk == expected


def _fields(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property of a schema and of its definitions, with where it is."""
    for owner in (schema, *schema.get("$defs", {}).values()):
        for name, prop in owner.get("properties", {}).items():
            yield f"{owner.get('title')}.{name}", prop


@pytest.mark.parametrize("name", sorted(render()))
def test_each_published_schema_describes_every_field_and_its_example_validates(name: str) -> None:
    document = json.loads(render()[name])
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document.get("description"), name
    undescribed = [where for where, prop in _fields(document) if not prop.get("description")]
    assert not undescribed, f"{name}: fields without a description: {undescribed}"
    validator = Draft202012Validator(document, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert len(document["examples"]) == 1
    for sample in document["examples"]:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(sample)]
        assert not errors, f"{name}: {errors}"
