"""The citizen's look-up link (tra cứu hồ sơ), from the configured template (pure).

The template holds `{code}` (the dossier code) and may hold `{secret}` (mã tra cứu, the secret on
the receipt), e.g. `https://dichvucong.example.gov.vn/tra-cuu?ma={code}&ms={secret}`. Notify
learns the secret from the receipt event only, and keeps it nowhere: the notice of receipt links
with both, every later notice with the code alone (its query parameter holding `{secret}` left
out), and the citizen types the secret they were given."""

from __future__ import annotations

from string import Formatter
from urllib.parse import quote

FIELDS = frozenset({"code", "secret"})


def check_template(template: str) -> str:
    """The template, if it names the code and nothing but `{code}` and `{secret}`; ValueError otherwise."""
    try:
        names = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(f"not a link template: {exc}") from None
    if "code" not in names:
        raise ValueError("the look-up link must hold {code}")
    if unknown := names - FIELDS:
        raise ValueError(f"the look-up link may hold only {{code}} and {{secret}}, not {', '.join(sorted(unknown))}")
    return template


def lookup_link(template: str, code: str, secret: str | None = None) -> str:
    """The link to the dossier's look-up; without a secret, the query parameter that would carry
    it is left out (a `{secret}` elsewhere in the link is left empty)."""
    if secret is None and "{secret}" in template:
        base, mark, query = template.partition("?")
        if mark:
            kept = [pair for pair in query.split("&") if "{secret}" not in pair]
            template = f"{base}?{'&'.join(kept)}" if kept else base
    return template.format(code=quote(code, safe=""), secret=quote(secret or "", safe=""))


def carried_by_sms(link: str, forbidden: str) -> bool:
    """Whether an SMS can carry the link whole: gateways refuse some characters (often `&`)."""
    return not any(ch in forbidden for ch in link)
