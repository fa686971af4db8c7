"""Vietnamese first, English by a switch. Pages are written in Vietnamese; `translate` gives the
English of a Vietnamese text from the catalogues in `web/i18n/*.json` (one per area of the console,
each mapping Vietnamese to English), or the Vietnamese itself when no English is known."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path

LANGUAGES = ("vi", "en")
CATALOGUES = Path(__file__).resolve().parent.parent / "i18n"


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else "vi"


@cache
def english() -> Mapping[str, str]:
    merged: dict[str, str] = {}
    for path in sorted(CATALOGUES.glob("*.json")):
        merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def translate(text: str, language: str) -> str:
    if language != "en":
        return text
    return english().get(text, text)
