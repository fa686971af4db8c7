"""The words a page shows for the services' codes: dossier statuses and channels, in both languages."""

from __future__ import annotations

from services.vocabulary import CHANNEL_LABELS_VI, STATUS_LABELS_VI, Channel, PortalStatus

STATUS_LABELS_EN: dict[PortalStatus, str] = {
    PortalStatus.SUBMITTED_ONLINE: "Filed online",
    PortalStatus.ACCEPTED: "Received",
    PortalStatus.REFUSED: "Refused",
    PortalStatus.IN_PROGRESS: "Being handled",
    PortalStatus.SUPPLEMENT_REQUESTED: "More documents needed",
    PortalStatus.AWAITING_PAYMENT: "Awaiting payment of fees",
    PortalStatus.WITHDRAWN: "Withdrawn",
    PortalStatus.STOPPED: "Handling stopped",
    PortalStatus.RESULT_READY: "Result ready",
    PortalStatus.DELIVERED: "Result returned",
}
CHANNEL_LABELS_EN: dict[Channel, str] = {
    Channel.COUNTER: "At the one-stop counter",
    Channel.ONLINE: "Online",
    Channel.POST: "By public postal service",
}


def status_label(code: int | str | None, language: str = "vi") -> str:
    try:
        status = PortalStatus(int(code))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(code or "")
    return (STATUS_LABELS_EN if language == "en" else STATUS_LABELS_VI)[status]


def channel_label(code: int | str | None, language: str = "vi") -> str:
    try:
        channel = Channel(int(code))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(code or "")
    return (CHANNEL_LABELS_EN if language == "en" else CHANNEL_LABELS_VI)[channel]


# Routing hands a completed step back to itself before it assigns the next one; an officer reads that
# party as the interlinking system, not as a program's name.
SYSTEM_PARTIES = {"routing-service": "Hệ thống liên thông"}


def party_label(party: str | None) -> str:
    """A handover's giver or receiver as form 5 names it."""
    return SYSTEM_PARTIES.get(party or "", party or "")
