"""The citizen's look-up page as rules (pure): the status of their dossier said as a sentence a
citizen understands, with what happens next; what is missing when a supplement is asked (Phiếu yêu
cầu bổ sung lists every item, and intake's public timeline carries them); whether the
satisfaction rating is open (after the result was returned, once).

Every text is Vietnamese; the page translates it (`web/i18n/citizen.json`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.vocabulary import PAUSED_STATUSES, PortalStatus


@dataclass(frozen=True)
class StatusSentence:
    headline: str
    next_step: str


SENTENCES: dict[PortalStatus, StatusSentence] = {
    PortalStatus.SUBMITTED_ONLINE: StatusSentence(
        "Hồ sơ đã được nộp trực tuyến và đang chờ cán bộ kiểm tra.",
        "Bạn sẽ được thông báo khi hồ sơ được tiếp nhận hoặc cần bổ sung.",
    ),
    PortalStatus.ACCEPTED: StatusSentence(
        "Hồ sơ đã được tiếp nhận.",
        "Hồ sơ đang được chuyển đến cơ quan có thẩm quyền giải quyết. Mời bạn nhận kết quả theo ngày hẹn.",
    ),
    PortalStatus.REFUSED: StatusSentence(
        "Hồ sơ đã bị từ chối giải quyết.",
        "Lý do được ghi trong quá trình xử lý bên dưới. Bạn có thể liên hệ Bộ phận Một cửa để được hướng dẫn.",
    ),
    PortalStatus.IN_PROGRESS: StatusSentence(
        "Hồ sơ đang được giải quyết.",
        "Cơ quan có thẩm quyền đang xử lý hồ sơ; bạn chưa cần làm gì thêm. Mời bạn nhận kết quả theo ngày hẹn.",
    ),
    PortalStatus.SUPPLEMENT_REQUESTED: StatusSentence(
        "Hồ sơ cần bổ sung giấy tờ.",
        "Mời bạn nộp bổ sung các giấy tờ dưới đây tại Bộ phận Một cửa. Thời gian giải quyết tạm dừng cho đến khi bạn nộp bổ sung.",
    ),
    PortalStatus.AWAITING_PAYMENT: StatusSentence(
        "Hồ sơ đang chờ bạn nộp phí, lệ phí hoặc thuế.",
        "Số tiền và nội dung được ghi trong quá trình xử lý bên dưới. Sau khi bạn nộp, hồ sơ được tiếp tục giải quyết.",
    ),
    PortalStatus.WITHDRAWN: StatusSentence(
        "Hồ sơ đã được rút theo đề nghị của bạn.",
        "Hồ sơ không được giải quyết tiếp.",
    ),
    PortalStatus.STOPPED: StatusSentence(
        "Việc giải quyết hồ sơ đang tạm dừng.",
        "Lý do được ghi trong quá trình xử lý bên dưới. Hồ sơ sẽ được giải quyết tiếp khi lý do dừng không còn.",
    ),
    PortalStatus.RESULT_READY: StatusSentence(
        "Hồ sơ đã có kết quả.",
        "Mời bạn nhận kết quả theo hình thức đã đăng ký; nếu nhận tại Bộ phận Một cửa, hãy mang theo giấy tiếp nhận.",
    ),
    PortalStatus.DELIVERED: StatusSentence(
        "Bạn đã nhận kết quả giải quyết hồ sơ.",
        "Cảm ơn bạn. Mời bạn đánh giá mức độ hài lòng về việc giải quyết hồ sơ.",
    ),
}
UNKNOWN = StatusSentence("Không xác định được tình trạng hồ sơ.", "Mời bạn liên hệ Bộ phận Một cửa để được hướng dẫn.")


def _status(code: int | str | None) -> PortalStatus | None:
    try:
        return PortalStatus(int(code))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def status_sentence(code: int | str | None) -> StatusSentence:
    status = _status(code)
    return SENTENCES[status] if status is not None else UNKNOWN


def appointment_shown(code: int | str | None) -> bool:
    """The appointment matters while the dossier is on its way, not once it is closed."""
    status = _status(code)
    return status not in (None, PortalStatus.REFUSED, PortalStatus.WITHDRAWN, PortalStatus.DELIVERED)


def appointment_paused(code: int | str | None) -> bool:
    """While the citizen is waited for (statuses 5, 6, 8) the appointment moves once handling resumes."""
    return _status(code) in PAUSED_STATUSES


def missing_items(result: Mapping[str, Any]) -> list[str]:
    """While a supplement is asked (status 5): every item of the latest request, as intake lists them."""
    if _status(result.get("status")) is not PortalStatus.SUPPLEMENT_REQUESTED:
        return []
    return [str(item) for item in result.get("missing_items") or []]


def rating_open(result: Mapping[str, Any]) -> bool:
    """Once the result was returned (status 10), and only once."""
    return _status(result.get("status")) is PortalStatus.DELIVERED and not result.get("rated")


SCORES: tuple[tuple[int, str], ...] = (
    (5, "Rất hài lòng"),
    (4, "Hài lòng"),
    (3, "Bình thường"),
    (2, "Không hài lòng"),
    (1, "Rất không hài lòng"),
)


def score_of(value: str | None) -> int | None:
    """The score as chosen on the form; None when none (or no valid one) was chosen."""
    try:
        score = int(value or "")
    except ValueError:
        return None
    return score if any(score == s for s, _ in SCORES) else None
