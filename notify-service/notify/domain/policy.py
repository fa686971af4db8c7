"""Who is told what, on which channel (pure).

The law requires some notices (receipt, supplement request, refusal, apology, result ready); the
others (fee request, result delivered) are non-essential and a citizen may opt out of them.
Agency staff are told of deadlines (sắp đến hạn, quá hạn) by e-mail, at the addresses listed for
their agency."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


@dataclass(frozen=True)
class DossierContact:
    """What notify keeps of a dossier: from its receipt, the code and procedure a notice names and
    the unit that received it (whose officers may read its notices); from intake's private stream,
    the applicant to reach and, until the receipt notice is drafted, the look-up secret. The two
    come on different topics in either order: `code` is None until the receipt is read."""

    code: str | None
    procedure_name: str | None
    contact: Contact
    receiving_unit: str | None = None
    lookup_secret: str | None = None

    @property
    def complete(self) -> bool:
        """Both the receipt and the contact were read: notices can be drafted."""
        return self.code is not None


def suppressed(trigger: Trigger, contact: Contact) -> bool:
    """A non-essential notice to a citizen who opted out of them."""
    return trigger.audience == "citizen" and not trigger.essential and contact.opt_out_non_essential


def staff_for(directory: Mapping[str, Sequence[str]], agency_code: str | None) -> Sequence[str]:
    """The addresses that receive an agency's deadline alerts; `*` for the whole-dossier deadline
    and any agency not listed."""
    if agency_code and directory.get(agency_code):
        return directory[agency_code]
    return directory.get("*", ())


def announces_supplement_request(producer: str, requested_by: str) -> bool:
    """Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ: the counter's request is announced by intake, an
    agency's by routing. The same request echoed on the other service's topic is not a second one."""
    return (producer == "intake") == (requested_by == "counter")


def idempotency_id(notice_id: str, resends: int) -> str:
    """What a channel receives as the notice's idempotency id: the notice id, plus `.rN` after the
    operator's N-th re-send (a gateway that honours the id would otherwise drop the re-send)."""
    return f"{notice_id}.r{resends}" if resends else notice_id


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
