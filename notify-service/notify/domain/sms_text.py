"""SMS text rules (pure): what an SMS-brandname gateway accepts in one segment.

Gateways take GSM-7 text without Vietnamese diacritics; some characters are refused outright;
one segment is 160 characters (123 on some networks). Longer content is shortened by the
template's own rules (see `fit_sms`), never cut in the middle of a word."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

DEFAULT_FORBIDDEN = "%#&[]{}\\<>@^~|`$"
DEFAULT_LIMIT = 160
ELLIPSIS = "..."

# Printable ASCII that every brandname gateway takes; anything else is dropped after folding.
_SAFE = set(chr(c) for c in range(0x20, 0x7F))
_SPACES = re.compile(r"\s+")


def strip_diacritics(text: str) -> str:
    """Bỏ dấu: NFD, drop combining marks, đ→d, Đ→D. `Hồ sơ đã tiếp nhận` → `Ho so da tiep nhan`."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def to_sms_text(text: str, forbidden: str = DEFAULT_FORBIDDEN) -> str:
    """Folds text to what gateways accept: no diacritics, no refused characters, one line, single spaces."""
    folded = strip_diacritics(text)
    folded = folded.replace("–", "-").replace("—", "-").replace("“", '"').replace("”", '"').replace("’", "'")
    kept = "".join(ch if ch in _SAFE and ch not in forbidden else (" " if ch.isspace() else "") for ch in folded)
    return _SPACES.sub(" ", kept).strip()


def shorten_at_word(text: str, limit: int) -> str:
    """Cuts at the last whole word that fits, followed by `...`; never splits a word."""
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    if room <= 0:
        return ELLIPSIS[:limit]
    cut = text[: room + 1]
    space = cut.rfind(" ")
    head = cut[:space] if space > 0 else ""
    head = head.rstrip(" ,.;:-")
    return f"{head}{ELLIPSIS}" if head else ELLIPSIS


def fit_sms(render: Callable[[int], str], limit: int = DEFAULT_LIMIT, levels: int = 3, forbidden: str = DEFAULT_FORBIDDEN) -> str:
    """The longest rendering of a template that fits one segment.

    `render(level)` gives the template's text at shortening level 0 (everything), 1, 2…: the
    template decides what goes first (the look-up link, the procedure name, items beyond the
    first). Only when even the shortest level is too long is it cut, at a word boundary."""
    text = ""
    for level in range(levels):
        text = to_sms_text(render(level), forbidden)
        if len(text) <= limit:
            return text
    return shorten_at_word(text, limit)


def valid_brandname(name: str) -> bool:
    """A brandname (tên định danh) is 1–11 characters of letters, digits, space, dot or hyphen."""
    return 0 < len(name) <= 11 and re.fullmatch(r"[A-Za-z0-9 .\-]+", name) is not None
