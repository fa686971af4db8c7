"""Which staff addresses receive an agency's deadline alerts: configuration data, read from a JSON file."""

from __future__ import annotations

import json
from pathlib import Path


def load_staff_directory(path: Path) -> dict[str, list[str]]:
    if not path.exists():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {code: list(addresses) for code, addresses in raw.items() if not code.startswith("_")}


def staff_for(directory: dict[str, list[str]], agency_code: str | None) -> list[str]:
    if agency_code and directory.get(agency_code):
        return directory[agency_code]
    return directory.get("*", [])
