"""What a failure's trail may say: field names and reasons, never a personal value. Dead letters
(their topic copy and Kafka headers), log lines and error texts go through here.

`describe` writes an exception without its input (a validation error names the field and the
rule broken); `redact_json` blanks the values of personal fields in a message kept for people to
read; `scrub` is the net under both, masking anything in free text shaped like a citizen id, a
Vietnamese phone number or an e-mail address."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

REDACTED = "[redacted]"
# Keys whose values are personal wherever they appear in a message.
PERSONAL_FIELDS = frozenset(
    {
        "name",
        "applicant_name",
        "citizen_id",
        "tax_code",
        "phone",
        "email",
        "address",
        "recipient",
        "to",
        "lookup_secret",
        "birth_date",
        "contact",
        "sealed",
    }
)

_PATTERNS = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"(?<![\w.-])\d{12}(?![\w-])"), "[citizen-id]"),
    (re.compile(r"(?<![\w.-])(?:\+?84|0)[35789]\d{8}(?![\w-])"), "[phone]"),
)


def scrub(text: str) -> str:
    for pattern, mask in _PATTERNS:
        text = pattern.sub(mask, text)
    return text


def redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if k in PERSONAL_FIELDS and v not in (None, "", []) else redact_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    if isinstance(value, str):
        return scrub(value)
    return value


def redact_raw(raw: str) -> str:
    """A message's text for a trail people read: its JSON with personal values blanked, or, when it
    is not JSON, the text with anything personal-looking masked."""
    try:
        return json.dumps(redact_json(json.loads(raw)), ensure_ascii=False)
    except ValueError:
        return scrub(raw)


def describe(exc: BaseException) -> str:
    """`Type: reason` naming fields and rules, without the values that broke them."""
    if isinstance(exc, ValidationError):
        parts = [f"{'.'.join(str(p) for p in e['loc']) or exc.title}: {e['msg']}" for e in exc.errors(include_input=False)]
        return scrub(f"{type(exc).__name__} ({exc.title}): " + "; ".join(parts))
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        return describe(cause)
    return scrub(f"{type(exc).__name__}: {exc}")
