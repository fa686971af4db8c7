"""What notify's use cases work with: the repository of contacts and notices (implemented over
PostgreSQL in `notify.adapters.repository`, in memory in the tests), the channels a notice leaves
through and the templates that word it (adapters implement both), and the unit of work that binds
the repository, the outbox and the parked events to one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol
from uuid import UUID

from notify.domain.policy import Contact, DossierContact, Trigger
from services.audit import AuditTrail
from services.identity import Scope
from services.messaging.outbox import EventSink
from services.messaging.parking import EventParking
from services.personal_data.keys import KeyRing
from services.unit_of_work import UnitOfWork

NoticeStatus = Literal["pending", "sending", "held", "sent", "delivered", "failed", "skipped"]

# ---------------------------------------------------------------- channels


@dataclass(frozen=True)
class Outgoing:
    """One notice handed to a channel."""

    notice_id: str
    idempotency_id: str  # the notice id, plus `.rN` after the N-th operator re-send
    dossier_id: str
    trigger: str  # the event the notice tells of (`dossier.received`, ...)
    channel: str
    recipient: str
    recipient_masked: str
    body: str
    subject: str | None = None
    html: str | None = None
    attachment_name: str | None = None
    attachment: str | None = None


@dataclass(frozen=True)
class Outcome:
    """accepted: the channel took it; rejected: it never will (a code says why); transient: try again later."""

    status: Literal["accepted", "rejected", "transient"]
    detail: str = ""
    code: str | None = None
    provider_message_id: str | None = None

    @classmethod
    def accepted(cls, provider_message_id: str | None = None) -> Outcome:
        return cls("accepted", provider_message_id=provider_message_id)

    @property
    def error(self) -> str:
        """What the delivery log says went wrong: `401: Invalid phone number`."""
        return f"{self.code}: {self.detail}" if self.code else self.detail


Acceptance = Literal["yes", "no", "unknown"]


class Channel(Protocol):
    """A way out for notices (the SMS gateway, the mail server, the console sink): one notice in, one outcome out."""

    async def send(self, notice: Outgoing) -> Outcome: ...

    async def already_accepted(self, notice: Outgoing) -> Acceptance:
        """Did the channel already take this notice's idempotency id? Asked of a notice in doubt
        (an earlier claim ran out without an outcome) before it is sent again; a channel that
        cannot tell answers "unknown"."""
        ...

    async def close(self) -> None: ...


# ---------------------------------------------------------------- wording


@dataclass(frozen=True)
class Message:
    """A notice's words for one channel: the text (an SMS's whole body), and for e-mail the subject,
    the HTML and the form that goes with it."""

    body: str
    subject: str | None = None
    html: str | None = None
    attachment_name: str | None = None
    attachment: str | None = None


class Composer(Protocol):
    def compose(self, trigger: Trigger, channel: str, context: Mapping[str, Any], language: str) -> Message: ...


@dataclass(frozen=True)
class Drafting:
    """How notices are drafted: the templates, the citizen's look-up link (`{code}` and `{secret}`
    filled in, `notify.domain.lookup_link`) and which staff addresses receive each agency's deadline alerts."""

    composer: Composer
    lookup_url: str
    staff: Mapping[str, Sequence[str]]


# ---------------------------------------------------------------- the repository


@dataclass(frozen=True)
class NewNotice:
    """A notice as recorded: once per (dossier, trigger event, channel, recipient)."""

    id: UUID
    dossier_id: UUID
    trigger: str
    trigger_event_id: UUID
    channel: str
    recipient: str
    recipient_masked: str
    language: str
    status: NoticeStatus
    body: str
    subject: str | None = None
    html_body: str | None = None
    attachment_name: str | None = None
    attachment: str | None = None
    last_error: str | None = None
    traceparent: str | None = None  # set by the repository from the current span, with tracing on


@dataclass(frozen=True)
class DueNotice:
    """A notice claimed for sending (its lease runs while it is sent). It is in doubt when it was
    still `sending` as claimed: an earlier claim ran out without an outcome, its process died or
    froze, maybe after the channel took the notice."""

    id: UUID
    dossier_id: UUID
    trigger: str
    channel: str
    recipient: str
    recipient_masked: str
    body: str
    subject: str | None
    html_body: str | None
    attachment_name: str | None
    attachment: str | None
    attempts: int  # this one included
    resends: int
    created_at: datetime
    traceparent: str | None  # of the span the notice was recorded in: its sending continues that trace
    in_doubt: bool


@dataclass(frozen=True)
class SentNotice:
    """A notice found by the id its channel gave back (a delivery receipt), locked."""

    id: UUID
    dossier_id: UUID
    status: NoticeStatus
    trigger: str
    channel: str
    recipient_masked: str


class NoticeRepository(Protocol):
    # The applicant's contact (dossier.contact_given) and the dossier's receipt (dossier.received).
    async def contact(self, dossier_id: UUID) -> DossierContact | None:
        """None before the contact was read; `complete` once the receipt was read too."""
        ...

    async def add_contact(self, dossier_id: UUID, contact: Contact, lookup_secret: str | None) -> bool:
        """False: a contact was kept for the dossier already (the first stands)."""
        ...

    async def add_receipt(self, dossier_id: UUID, code: str, procedure_name: str, receiving_unit: str | None) -> None: ...
    async def forget_lookup_secret(self, dossier_id: UUID) -> None: ...
    async def mark_ended(self, dossier_id: UUID, at: datetime) -> bool:
        """The dossier ended (result returned, withdrawn, refused); False when no contact is kept yet."""
        ...

    # Recording notices (a repeat of the same notice is ignored).
    async def add_notices(self, notices: Sequence[NewNotice]) -> None: ...

    # Sending: claimed under a lease, then one outcome each (False: the lease was lost meanwhile).
    async def claim_due(self, limit: int, lease_seconds: float) -> list[DueNotice]: ...
    async def hold_until(self, notice_id: UUID, release: datetime) -> None: ...
    async def renew_claim(self, notice_id: UUID, attempts: int, lease_seconds: float) -> bool:
        """Extend the lease of this claim (the `attempts`-th) to `lease_seconds` from now; False when
        the claim was lost: its lease ran out and the notice was claimed again, or it is no longer sending."""
        ...

    async def mark_sent(self, notice_id: UUID, at: datetime, gateway_id: str, provider_message_id: str | None) -> bool: ...
    async def retry_at(self, notice_id: UUID, error: str, at: datetime) -> None: ...
    async def mark_failed(self, notice_id: UUID, *, error: str, permanent: bool, at: datetime, gateway_id: str) -> bool: ...

    # After sending: delivery receipts and the operator's re-send.
    async def sent_with(self, gateway_id: str) -> SentNotice | None: ...
    async def mark_delivered(self, notice_id: UUID, at: datetime) -> None: ...
    async def mark_undelivered(self, notice_id: UUID, error: str, at: datetime) -> None: ...
    async def status_for_update(self, notice_id: UUID) -> NoticeStatus | None: ...
    async def erased(self, notice_id: UUID) -> bool:
        """Its recipient and texts were erased (retention, or the citizen's request)."""
        ...

    async def send_again(self, notice_id: UUID, at: datetime) -> dict[str, Any]: ...

    # Reading.
    async def of_dossier(self, dossier_id: UUID, scope: Scope) -> list[dict[str, Any]] | None:
        """The dossier's notices, oldest first; None when it is unknown or its receiving unit is out of `scope`."""
        ...

    async def with_status(self, status: NoticeStatus, limit: int) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class NotifyWork:
    """What a use case works with inside one transaction."""

    notices: NoticeRepository
    events: EventSink
    parking: EventParking
    audit: AuditTrail


NotifyUnitOfWork = UnitOfWork[NotifyWork]


@dataclass(frozen=True)
class Handling:
    """What a consumer's handler is given: the unit bound to the consumer's transaction, how notices
    are drafted, and the ring the contacts on intake's private stream open with (`contact_ring`)."""

    work: NotifyWork
    drafting: Drafting
    contact_keys: KeyRing
