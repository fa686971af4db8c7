"""Write the JSON Schema of the envelope and of every event payload to docs/events/."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from services.events import Envelope, registered

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events"


def render() -> dict[str, str]:
    files = {"envelope.json": json.dumps(Envelope.model_json_schema(), indent=2, ensure_ascii=False) + "\n"}
    for (event_type, version), schema in sorted(registered().items()):
        body = schema.model_json_schema()
        body["$id"] = f"{event_type}.v{version}"
        body["description"] = (schema.__doc__ or "").strip()
        files[f"{event_type}.v{version}.json"] = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
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
