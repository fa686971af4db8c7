"""Personal data rules of intake (Decree 13/2023/NĐ-CP on personal data protection): how staff
search finds a dossier by its applicant without the database holding anything in clear, which
dossiers have ended (so their applicant may be erased, by the retention rule or at the citizen's
request), and what an erased applicant looks like.

Search goes through blind indexes (`services.personal_data.keys.KeyRing.index`): only an exact
value is found — the whole citizen id, the whole phone number, the whole name (case, accents
as typed and spacing normalised). A part of a name no longer finds anything."""

from __future__ import annotations

import re
import uuid
from typing import Literal

from services.vocabulary import CITIZEN_ID, PortalStatus

SearchKind = Literal["citizen_id", "phone", "name"]

# What the dossier's applicant becomes once erased: a marker, nothing personal.
ERASED_NAME = "[đã xoá]"
ERASED_APPLICANT = {"erased": True, "name": ERASED_NAME}

# A procedure has ended once the result was returned, the citizen withdrew or it was refused; only
# then may its applicant's data go (before, the agencies still need the contact).
ENDED_STATUSES = frozenset({PortalStatus.DELIVERED, PortalStatus.WITHDRAWN, PortalStatus.REFUSED})

# A Vietnamese phone number as typed: 0 and 9–10 digits, or +84 / 84 and 9 digits; spaces, dots, dashes allowed.
_PHONE = re.compile(r"^(?:\+?84|0)\d{9,10}$")

KEPT_IN_PROGRESS = (
    "the procedure has not ended: the agencies still need the applicant's contact, and the law allows "
    "erasure only once the result was returned, the dossier withdrawn or refused"
)


def search_kind(q: str) -> SearchKind:
    """Which blind index a staff search text is looked up in: a 12-digit citizen id (CCCD), a
    phone-shaped text, or else the applicant's full name."""
    text = q.strip()
    if CITIZEN_ID.match(text):
        return "citizen_id"
    if _PHONE.match(re.sub(r"[\s.\-()]", "", text)):
        return "phone"
    return "name"


def has_ended(status: int) -> bool:
    return status in ENDED_STATUSES


def erasable(status: int) -> tuple[bool, str | None]:
    """Whether a dossier's applicant may be erased at the citizen's request now, and if not why."""
    return (True, None) if has_ended(status) else (False, KEPT_IN_PROGRESS)


def valid_citizen_id(citizen_id: str) -> bool:
    """A citizen identity card number (CCCD): 12 digits."""
    return bool(CITIZEN_ID.match(citizen_id.strip()))


def new_request_id() -> str:
    return f"pdr-{uuid.uuid4().hex}"


# The services that hold a part of a dossier's personal data besides intake: a request is complete
# once each has answered for every dossier.
OTHER_HOLDERS = ("routing", "deadline", "notify")


def complete(answers: dict[str, dict[str, int]]) -> bool:
    """Every dossier of the request answered by routing, deadline and notify."""
    return all(all(s in by_service for s in OTHER_HOLDERS) for by_service in answers.values())
