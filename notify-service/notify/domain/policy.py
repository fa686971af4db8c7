"""Who is told what, on which channel (pure).

The law requires some notices (receipt, supplement request, refusal, apology, result ready); the
others (fee request, result delivered) are non-essential and a citizen may opt out of them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

Audience = Literal["citizen", "staff"]


@dataclass(frozen=True)
class Trigger:
    """One kind of notice: which template, whether the law requires it, which form goes with the e-mail."""

    template: str
    audience: Audience
    essential: bool
    form: str | None = None  # template of the attached form, when one exists


TRIGGERS: dict[str, Trigger] = {
    "dossier.received": Trigger("received", "citizen", True, form="form_1_receipt"),
    "dossier.supplement_requested": Trigger("supplement_requested", "citizen", True, form="form_2_supplement"),
    "dossier.refused": Trigger("refused", "citizen", True),
    "routing.fee_requested": Trigger("fee_requested", "citizen", False),
    "deadline.apology_issued": Trigger("apology_issued", "citizen", True, form="form_4_apology"),
    "routing.route_completed": Trigger("result_ready", "citizen", True),
    "dossier.result_returned": Trigger("result_returned", "citizen", False),
    "deadline.warning": Trigger("deadline_warning", "staff", True),
    "deadline.overdue": Trigger("deadline_overdue", "staff", True),
}


@dataclass(frozen=True)
class Contact:
    """The applicant's contact and choices, as given at intake."""

    name: str
    phone: str | None
    email: str | None
    channels: tuple[str, ...]
    language: str = "vi"
    opt_out_non_essential: bool = False


def recipients(contact: Contact) -> list[tuple[str, str]]:
    """(channel, address) pairs the citizen chose and can be reached on. No choice: every address given."""
    chosen = contact.channels or tuple(c for c, a in (("sms", contact.phone), ("email", contact.email)) if a)
    out: list[tuple[str, str]] = []
    for channel in dict.fromkeys(chosen):
        if channel == "sms" and contact.phone:
            out.append(("sms", contact.phone))
        elif channel == "email" and contact.email:
            out.append(("email", contact.email))
        elif channel == "console":
            out.append(("console", contact.phone or contact.email or contact.name))
    return out


def suppressed(trigger: Trigger, contact: Contact) -> bool:
    """A non-essential notice to a citizen who opted out of them."""
    return trigger.audience == "citizen" and not trigger.essential and contact.opt_out_non_essential


def retry_delay(
    attempt: int, base_seconds: float, cap_seconds: float, jitter: float = 0.2, rng: random.Random | None = None
) -> float:
    """Exponential backoff after the `attempt`-th failed try (1-based), capped, with a little jitter."""
    delay = min(base_seconds * 2 ** (attempt - 1), cap_seconds)
    spread = (rng or random).uniform(-jitter, jitter) * delay
    return max(0.0, delay + spread)


class Spacing:
    """A rate limit as evenly spaced send slots: at most `per_second` starts in any one second."""

    def __init__(self, per_second: float) -> None:
        if per_second <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / per_second
        self._next = float("-inf")

    def slot(self, now: float) -> float:
        """The moment the next send may start (>= now); reserves it."""
        at = max(now, self._next)
        self._next = at + self.interval
        return at


def mask(recipient: str) -> str:
    """Enough to recognise, not enough to contact: `0912345678` → `091****678`."""
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(recipient) <= 6:
        return "*" * len(recipient)
    return f"{recipient[:3]}{'*' * (len(recipient) - 6)}{recipient[-3:]}"
