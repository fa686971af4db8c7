"""The citizen's rules, without I/O: the status said as a sentence with what comes next, the
appointment shown while it matters, the missing items of a supplement request, the rating once."""

from __future__ import annotations

import pytest

from services.vocabulary import PortalStatus
from web.domain.citizen import (
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


def test_what_is_missing_is_shown_only_while_a_supplement_is_asked() -> None:
    asked = {"status": 5, "missing_items": ["Giấy chứng sinh (bản chính)", "Tờ khai; có chữ ký"]}
    assert missing_items(asked) == ["Giấy chứng sinh (bản chính)", "Tờ khai; có chữ ký"]
    assert missing_items({**asked, "status": 4}) == []
    assert missing_items({"status": 5}) == []


def test_the_rating_opens_when_the_result_is_returned_and_only_once() -> None:
    assert rating_open({"status": 10, "rated": False})
    assert not rating_open({"status": 9, "rated": False})
    assert not rating_open({"status": 10, "rated": True})


@pytest.mark.parametrize(
    ("value", "score"), [("5", 5), ("1", 1), ("0", None), ("6", None), ("", None), ("x", None), (None, None)]
)
def test_only_a_score_of_the_form_is_taken(value: str | None, score: int | None) -> None:
    assert score_of(value) == score
