"""The words every service uses for a dossier, defined once: the national portal's status codes
(TrangThaiHoSo) with their Vietnamese labels, the channels a dossier comes through (HinhThuc),
Vietnam's time zone and the shape of a citizen's identification number. Pure: no I/O."""

from __future__ import annotations

import re
from enum import IntEnum
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# A personal identification number (số định danh cá nhân, on the CCCD card): 12 digits.
CITIZEN_ID = re.compile(r"^\d{12}$")


class PortalStatus(IntEnum):
    """National public-service portal (DVCQG) status codes (TrangThaiHoSo)."""

    SUBMITTED_ONLINE = 1  # mới nộp trực tuyến
    ACCEPTED = 2  # đã tiếp nhận
    REFUSED = 3  # từ chối
    IN_PROGRESS = 4  # đang giải quyết
    SUPPLEMENT_REQUESTED = 5  # yêu cầu bổ sung
    AWAITING_PAYMENT = 6  # chờ thực hiện nghĩa vụ tài chính
    WITHDRAWN = 7  # công dân rút hồ sơ
    STOPPED = 8  # dừng xử lý
    RESULT_READY = 9  # đã có kết quả
    DELIVERED = 10  # đã trả kết quả

    @property
    def label(self) -> str:
        return STATUS_LABELS_VI[self]


STATUS_LABELS_VI: dict[PortalStatus, str] = {
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

# Reports treat 5, 6 and 8 as paused: the clock waits for the citizen (or for a stop to end).
PAUSED_STATUSES = frozenset({PortalStatus.SUPPLEMENT_REQUESTED, PortalStatus.AWAITING_PAYMENT, PortalStatus.STOPPED})
# Nothing moves a dossier out of these.
FINAL_STATUSES = frozenset({PortalStatus.REFUSED, PortalStatus.WITHDRAWN, PortalStatus.DELIVERED})


class Channel(IntEnum):
    """How a dossier was filed (HinhThuc)."""

    COUNTER = 1
    ONLINE = 2
    POST = 3

    @property
    def label(self) -> str:
        return CHANNEL_LABELS_VI[self]


CHANNEL_LABELS_VI: dict[Channel, str] = {
    Channel.COUNTER: "Trực tiếp tại Bộ phận Một cửa",
    Channel.ONLINE: "Trực tuyến",
    Channel.POST: "Qua dịch vụ bưu chính công ích",
}
