"""Which staff addresses receive an agency's deadline alerts: configuration data, read from a JSON
file (`NOTIFY_AGENCY_STAFF_FILE`); keys starting with `_` are comments."""

from __future__ import annotations

import json
from pathlib import Path


def load_staff_directory(path: Path) -> dict[str, list[str]]:
    if not path.exists():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {code: list(addresses) for code, addresses in raw.items() if not code.startswith("_")}
