"""SMS text rules: no diacritics, no refused characters, one segment, never cut mid-word."""

import string

from hypothesis import given
from hypothesis import strategies as st

from notify.domain.sms_text import DEFAULT_FORBIDDEN, fit_sms, shorten_at_word, strip_diacritics, to_sms_text, valid_brandname


def test_vietnamese_loses_its_marks_and_d_bar_becomes_d() -> None:
    assert strip_diacritics("Hồ sơ đã được tiếp nhận") == "Ho so da duoc tiep nhan"
    assert strip_diacritics("ĐĂNG KÝ KHAI SINH, Ủy ban") == "DANG KY KHAI SINH, Uy ban"
    assert to_sms_text("Nguyễn Thị Lan — lệ phí 100% & phí [khác] {x} @ <b> #1") == "Nguyen Thi Lan - le phi 100 phi khac x b 1"


def test_text_that_fits_is_kept_whole_and_a_longer_one_cut_at_a_word() -> None:
    assert shorten_at_word("Ho so da duoc tiep nhan", 160) == "Ho so da duoc tiep nhan"
    cut = shorten_at_word("Ho so 000.00.00.H30-261122-0001 can bo sung giay chung sinh", 40)
    assert cut == "Ho so 000.00.00.H30-261122-0001 can..." and len(cut) <= 40


def test_the_template_shortens_by_its_own_levels_before_anything_is_cut() -> None:
    levels = [
        "Hồ sơ ABC (Đăng ký khai sinh cho trẻ em) đã tiếp nhận. Tra cứu: https://x.vn/a",
        "Hồ sơ ABC đã tiếp nhận. Tra cứu: https://x.vn/a",
        "Hồ sơ ABC đã tiếp nhận.",
    ]
    assert fit_sms(lambda level: levels[level], limit=160) == to_sms_text(levels[0])
    assert fit_sms(lambda level: levels[level], limit=60) == "Ho so ABC da tiep nhan. Tra cuu: https://x.vn/a"
    assert fit_sms(lambda level: levels[level], limit=23) == "Ho so ABC da tiep nhan."
    assert fit_sms(lambda level: levels[level], limit=20) == "Ho so ABC da tiep..."


@given(
    st.text(alphabet=st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S", "Zs")), max_size=400),
    st.sampled_from([160, 123, 70]),
)
def test_any_text_becomes_safe_for_the_gateway_and_fits(text: str, limit: int) -> None:
    sms = fit_sms(lambda level: text, limit=limit)
    assert len(sms) <= limit
    assert all(ch in string.printable and ch not in DEFAULT_FORBIDDEN and ch not in "\t\n\r\x0b\x0c" for ch in sms)
    if sms.endswith("...") and sms != "...":  # what was kept is whole words of the folded text
        kept = sms[:-3].split(" ")
        full = to_sms_text(text).split(" ")
        assert full[: len(kept) - 1] == kept[:-1] and kept[-1] and full[len(kept) - 1].startswith(kept[-1])
        assert full[len(kept) - 1].rstrip(" ,.;:-") == kept[-1] or full[len(kept) - 1] == kept[-1]


def test_brandnames_are_at_most_eleven_plain_characters() -> None:
    assert valid_brandname("UBND TINH") and valid_brandname("HCC-LAMDONG")
    assert not valid_brandname("HCCLAMDONG12") and not valid_brandname("Một cửa") and not valid_brandname("")
