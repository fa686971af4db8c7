"""A dossier's code (mã số hồ sơ), its look-up secret, how its applicant is shown to others and how
its times are told to the citizen (Vietnam time)."""

from __future__ import annotations

import secrets
from datetime import datetime

from services.vocabulary import VN_TZ


def dossier_code(unit_code: str, received_at: datetime, sequence: int, pattern: str = "{unit}-{date:%y%m%d}-{seq:04d}") -> str:
    """Mã số hồ sơ per Circular 01/2018 Art. 19: `<unit code>-YYMMDD-XXXX`, the date in Vietnam time."""
    if not 1 <= sequence <= 9999:
        raise ValueError(f"sequence {sequence} out of range for a 4-digit dossier code")
    return pattern.format(unit=unit_code, date=received_at.astimezone(VN_TZ), seq=sequence)


# Letters and digits a citizen cannot confuse when copying from paper (no 0/O, 1/I/L).
SECRET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_secret(length: int = 8) -> str:
    """The look-up secret printed on the receipt (mã tra cứu)."""
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(length))


def secret_matches(secret: str, given: str) -> bool:
    """Whether `given` is the receipt's secret, as a citizen may type it (case, spaces), in constant time."""
    return secrets.compare_digest(secret.encode(), given.strip().upper().encode())


def mask_name(name: str) -> str:
    """`Nguyễn Thị Lan` → `N*** T** L**`: enough for the citizen to recognise, not to identify."""
    return " ".join(word[0] + "*" * max(len(word) - 1, 2) for word in name.split())


def vietnam_time(moment: datetime) -> str:
    """An instant on Vietnam's clock, ISO 8601 with its offset: `2026-12-05T16:30:00+07:00`."""
    return moment.astimezone(VN_TZ).isoformat(timespec="seconds")


def told_time(moment: datetime) -> str:
    """An instant as a Vietnamese citizen is told it (giờ Việt Nam): `16:30 ngày 05/12/2026`."""
    local = moment.astimezone(VN_TZ)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"
