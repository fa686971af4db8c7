"""Write the JSON Schema (2020-12) of the envelope and of every event payload to docs/events/, each
with a description on every field and an example that validates against it (`make event-docs`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from services.events import Envelope, registered
from services.events.envelope import Actor
from services.events.examples import example
from services.events.schemas import DossierReceived

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events"


DIALECT = "https://json-schema.org/draft/2020-12/schema"


def envelope_example() -> dict[str, Any]:
    """A `dossier.received` envelope as it goes on the backbone (fixed ids and time, for stable docs)."""
    event_id = UUID("0b7f3c52-8d1e-4f0a-9a61-3f5e2c9d4b10")
    return Envelope(
        event_id=event_id,
        type=DossierReceived.event_type,
        version=DossierReceived.event_version,
        occurred_at="2026-03-02T02:15:00Z",
        dossier_id="000.00.01.H12-260302-0001",
        correlation_id=event_id,
        producer="intake",
        actor=Actor(kind="officer", subject="5b0e6a54-2f0c-4a51-9d35-0c1f3e0c7a11", name="Trần Thị Bình", unit="000.00.01.H12"),
        payload=example(DossierReceived),
    ).model_dump(mode="json")


def _document(body: dict[str, Any], sample: dict[str, Any]) -> str:
    return json.dumps({"$schema": DIALECT, **body, "examples": [sample]}, indent=2, ensure_ascii=False) + "\n"


def render() -> dict[str, str]:
    files = {"envelope.json": _document({"$id": "envelope", **Envelope.model_json_schema()}, envelope_example())}
    for (event_type, version), schema in sorted(registered().items()):
        body = schema.model_json_schema()
        body["$id"] = f"{event_type}.v{version}"
        body["description"] = (schema.__doc__ or "").strip()
        files[f"{event_type}.v{version}.json"] = _document(body, example(schema))
    return files


def main() -> int:
    DOCS.mkdir(parents=True, exist_ok=True)
    for old in DOCS.glob("*.json"):
        old.unlink()
    for name, text in render().items():
        (DOCS / name).write_text(text)
        print(DOCS / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
