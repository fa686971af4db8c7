"""Dates, times and money as Vietnamese readers expect them, written one way for every form,
e-mail, SMS and timeline (Babel, with Vietnam's time zone): `14:05 25/11/2026`, `25/11/2026`,
`500.000 đồng`; English readers get `14:05, 25 Nov 2026` and `500,000 VND`."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.numbers import format_decimal

from services.vocabulary import VN_TZ

DATETIME_PATTERNS = {"vi": "HH:mm dd/MM/yyyy", "en": "HH:mm, d MMM yyyy"}
DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}
CURRENCY_WORDS = {"vi": "đồng", "en": "VND"}


def _language(language: str) -> str:
    return language if language in DATETIME_PATTERNS else "vi"


def _moment(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


# A notice or a form writes the same instant several times (an SMS at each shortening level, the
# e-mail, the attached form), and Babel takes a few microseconds each time: results are remembered.
@lru_cache(maxsize=4096)
def format_datetime(value: datetime | str, language: str = "vi") -> str:
    """An instant in Vietnam time: `14:05 25/11/2026` (an ISO text is read first, as events carry it)."""
    language = _language(language)
    return _babel_datetime(_moment(value), DATETIME_PATTERNS[language], tzinfo=VN_TZ, locale=language)


@lru_cache(maxsize=4096)
def format_date(value: datetime | date | str, language: str = "vi") -> str:
    """The day of an instant in Vietnam time (or a calendar day as it is): `25/11/2026`."""
    language = _language(language)
    if isinstance(value, datetime | str):
        day = _moment(value).astimezone(VN_TZ).date()
    else:
        day = value
    return _babel_date(day, DATE_PATTERNS[language], locale=language)


@lru_cache(maxsize=4096)
def format_money(amount: int, language: str = "vi") -> str:
    """An amount of Vietnamese đồng: `500.000 đồng`."""
    language = _language(language)
    return f"{format_decimal(amount, locale=language)} {CURRENCY_WORDS[language]}"


def jinja_filters() -> dict[str, Any]:
    """The same formats as Jinja2 filters, for every template: `datetime`, `date`, `money`."""
    return {"datetime": format_datetime, "date": format_date, "money": format_money}
