"""The words pages show for the services' codes."""

from __future__ import annotations

from web.domain.labels import channel_label, party_label, status_label


def test_statuses_and_channels_read_as_words_in_both_languages() -> None:
    assert status_label(5) == "Yêu cầu bổ sung hồ sơ"
    assert status_label("10", "en") == "Result returned"
    assert channel_label(3) == "Qua dịch vụ bưu chính công ích"
    assert status_label(None) == "" and status_label(42) == "42"


def test_the_interlinking_system_is_named_as_a_party_not_by_its_program() -> None:
    assert party_label("routing-service") == "Hệ thống liên thông"
    assert party_label("UBND xã (hộ tịch)") == "UBND xã (hộ tịch)"
    assert party_label(None) == ""
