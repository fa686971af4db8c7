"""What every channel adapter takes and answers: one outgoing notice in, one outcome out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class Outgoing:
    notice_id: str
    idempotency_id: str  # the notice id, plus `.rN` after the N-th operator re-send
    dossier_id: str
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


class Channel(Protocol):
    async def send(self, notice: Outgoing) -> Outcome: ...

    async def close(self) -> None: ...
