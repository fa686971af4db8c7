"""What a notice says (pure). Vietnamese by default."""

from __future__ import annotations

from services.calendar import VN_TZ
from services.events.schemas import DossierReceived


def received_text(event: DossierReceived) -> str:
    """Receipt and appointment (Giấy tiếp nhận hồ sơ và hẹn trả kết quả), short form."""
    appointment = event.appointment_at.astimezone(VN_TZ)
    return (
        f"Hồ sơ {event.dossier_code} ({event.procedure_name}) đã được tiếp nhận. "
        f"Hẹn trả kết quả: {appointment:%H:%M %d/%m/%Y}."
    )


def mask(recipient: str) -> str:
    """Enough to recognise, not enough to contact: `0912345678` → `091****678`."""
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(recipient) <= 6:
        return "*" * len(recipient)
    return f"{recipient[:3]}{'*' * (len(recipient) - 6)}{recipient[-3:]}"
