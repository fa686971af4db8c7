"""The citizen's rules, without I/O: the status said as a sentence with what comes next, the
appointment shown while it matters, the missing items of a supplement request, the rating once."""

from __future__ import annotations

import pytest

from services.vocabulary import PortalStatus
from web.domain.citizen import (
    already_rated,
    appointment_paused,
    appointment_shown,
    missing_items,
    rating_open,
    score_of,
    status_sentence,
)


def test_every_status_has_a_sentence_and_what_comes_next() -> None:
    for status in PortalStatus:
        sentence = status_sentence(int(status))
        assert sentence.headline.endswith(".") and sentence.next_step.endswith(".")
    assert status_sentence(4).headline == "Hồ sơ đang được giải quyết."
    assert "nộp bổ sung" in status_sentence(5).next_step
    assert status_sentence("9").headline == "Hồ sơ đã có kết quả."


def test_an_unknown_status_is_not_guessed() -> None:
    assert status_sentence(99).headline == "Không xác định được tình trạng hồ sơ."
    assert status_sentence(None).headline == "Không xác định được tình trạng hồ sơ."


@pytest.mark.parametrize(("status", "shown", "paused"), [(2, True, False), (4, True, False), (5, True, True), (6, True, True),
                                                         (8, True, True), (9, True, False), (3, False, False),
                                                         (7, False, False), (10, False, False)])  # fmt: skip
def test_the_appointment_is_shown_while_the_dossier_is_on_its_way(status: int, shown: bool, paused: bool) -> None:
    assert appointment_shown(status) is shown
    assert appointment_paused(status) is paused


TIMELINE = [
    {"at": "2026-11-22T02:10:00Z", "label": "Đã tiếp nhận"},
    {"at": "2026-11-22T03:00:00Z", "label": "Yêu cầu bổ sung hồ sơ: Giấy chứng sinh"},
    {"at": "2026-11-23T03:00:00Z", "label": "Công dân đã bổ sung hồ sơ; tiếp tục giải quyết"},
    {"at": "2026-11-24T03:00:00Z", "label": "UBND xã (hộ tịch) yêu cầu bổ sung hồ sơ: Giấy chứng sinh (bản chính); Tờ khai"},
]


def test_the_latest_supplement_requests_items_are_what_is_missing() -> None:
    assert missing_items(5, TIMELINE) == ["Giấy chứng sinh (bản chính)", "Tờ khai"]
    assert missing_items(5, TIMELINE[:2]) == ["Giấy chứng sinh"]


def test_nothing_is_missing_once_the_supplement_is_in() -> None:
    assert missing_items(4, TIMELINE) == []
    assert missing_items(5, TIMELINE[:1]) == []


def test_the_rating_opens_when_the_result_is_returned_and_only_once() -> None:
    returned = [*TIMELINE, {"at": "2026-11-25T03:00:00Z", "label": "Đã trả kết quả qua Bộ phận Một cửa"}]
    assert rating_open(10, returned)
    assert not rating_open(9, returned)
    rated = [*returned, {"at": "2026-11-25T04:00:00Z", "label": "Đánh giá mức độ hài lòng: 4/5"}]
    assert already_rated(rated)
    assert not rating_open(10, rated)


@pytest.mark.parametrize(
    ("value", "score"), [("5", 5), ("1", 1), ("0", None), ("6", None), ("", None), ("x", None), (None, None)]
)
def test_only_a_score_of_the_form_is_taken(value: str | None, score: int | None) -> None:
    assert score_of(value) == score
