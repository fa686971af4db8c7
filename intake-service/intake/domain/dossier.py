"""Dossier codes and citizen-facing statuses."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from services.calendar import VN_TZ


class PortalStatus(IntEnum):
    """National public-service portal (DVCQG) status codes (TrangThaiHoSo)."""

    SUBMITTED_ONLINE = 1
    ACCEPTED = 2
    REFUSED = 3
    IN_PROGRESS = 4
    SUPPLEMENT_REQUESTED = 5
    AWAITING_PAYMENT = 6
    WITHDRAWN = 7
    STOPPED = 8
    RESULT_READY = 9
    DELIVERED = 10


STATUS_LABELS_VI = {
    PortalStatus.SUBMITTED_ONLINE: "Mới nộp trực tuyến",
    PortalStatus.ACCEPTED: "Đã tiếp nhận",
    PortalStatus.REFUSED: "Từ chối tiếp nhận",
    PortalStatus.IN_PROGRESS: "Đang giải quyết",
    PortalStatus.SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung hồ sơ",
    PortalStatus.AWAITING_PAYMENT: "Chờ thực hiện nghĩa vụ tài chính",
    PortalStatus.WITHDRAWN: "Công dân rút hồ sơ",
    PortalStatus.STOPPED: "Dừng xử lý",
    PortalStatus.RESULT_READY: "Đã có kết quả",
    PortalStatus.DELIVERED: "Đã trả kết quả",
}


def dossier_code(unit_code: str, received_at: datetime, sequence: int, pattern: str = "{unit}-{date:%y%m%d}-{seq:04d}") -> str:
    """Mã số hồ sơ per Circular 01/2018 Art. 19: `<unit code>-YYMMDD-XXXX`, the date in Vietnam time."""
    if not 1 <= sequence <= 9999:
        raise ValueError(f"sequence {sequence} out of range for a 4-digit dossier code")
    return pattern.format(unit=unit_code, date=received_at.astimezone(VN_TZ), seq=sequence)


FINAL_STATUSES = frozenset({PortalStatus.REFUSED, PortalStatus.WITHDRAWN, PortalStatus.DELIVERED})
PAUSED_STATUSES = frozenset({PortalStatus.SUPPLEMENT_REQUESTED, PortalStatus.AWAITING_PAYMENT, PortalStatus.STOPPED})

# Letters and digits a citizen cannot confuse when copying from paper (no 0/O, 1/I/L).
SECRET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_secret(length: int = 8) -> str:
    """The look-up secret printed on the receipt (mã tra cứu)."""
    import secrets

    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(length))


def mask_name(name: str) -> str:
    """`Nguyễn Thị Lan` → `N*** T** L**`: enough for the citizen to recognise, not to identify."""
    return " ".join(word[0] + "*" * max(len(word) - 1, 2) for word in name.split())


def vn_time(at: datetime) -> str:
    """`14 giờ 05 phút, ngày 25/11/2026`, as printed on the forms (Vietnam time)."""
    v = at.astimezone(VN_TZ)
    return f"{v:%H} giờ {v:%M} phút, ngày {v:%d/%m/%Y}"


def vn_money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng"
