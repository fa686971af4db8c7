"""Who is told what on which channel; quiet hours; the rate limit's spacing. (Retry delays are the
kernel's `backoff_seconds`, tested with the kernel.)"""

from datetime import UTC, datetime, time

import pytest

from notify.domain.policy import TRIGGERS, Contact, Spacing, announces_supplement_request, recipients, staff_for, suppressed
from notify.domain.quiet_hours import QuietHours
from services.calendar import VN_TZ


def contact(**kw: object) -> Contact:
    base: dict[str, object] = dict(
        name="Lan", phone="0912345678", email="lan@example.vn", channels=(), language="vi", opt_out_non_essential=False
    )
    return Contact(**{**base, **kw})  # type: ignore[arg-type]


def test_the_citizen_is_reached_on_the_channels_chosen_at_intake() -> None:
    assert recipients(contact(channels=("sms",))) == [("sms", "0912345678")]
    assert recipients(contact(channels=("email", "sms"))) == [("email", "lan@example.vn"), ("sms", "0912345678")]
    assert recipients(contact(channels=("email",), email=None)) == []  # chose e-mail, gave no address
    assert recipients(contact()) == [("sms", "0912345678"), ("email", "lan@example.vn")]  # no choice: every address
    assert recipients(contact(channels=("console",), phone=None)) == [("console", "lan@example.vn")]


def test_opting_out_drops_only_the_notices_the_law_does_not_require() -> None:
    out = contact(opt_out_non_essential=True)
    assert suppressed(TRIGGERS["routing.fee_requested"], out) and suppressed(TRIGGERS["dossier.result_returned"], out)
    for required in (
        "dossier.received",
        "dossier.supplement_requested",
        "dossier.refused",
        "deadline.apology_issued",
        "routing.route_completed",
    ):
        assert not suppressed(TRIGGERS[required], out)
    assert not suppressed(TRIGGERS["routing.fee_requested"], contact())
    assert not suppressed(TRIGGERS["deadline.overdue"], out)  # staff alerts are not the citizen's to refuse


def test_an_sms_at_night_is_held_until_the_morning() -> None:
    quiet = QuietHours.parse("21:00-07:00")
    assert quiet is not None and QuietHours.parse("") is None
    night = datetime(2026, 11, 22, 22, 30, tzinfo=VN_TZ)
    assert quiet.release_at(night, VN_TZ) == datetime(2026, 11, 23, 7, 0, tzinfo=VN_TZ)
    early = datetime(2026, 11, 23, 5, 59, tzinfo=VN_TZ).astimezone(UTC)
    assert quiet.release_at(early, VN_TZ) == datetime(2026, 11, 23, 7, 0, tzinfo=VN_TZ)
    assert quiet.release_at(datetime(2026, 11, 23, 7, 0, tzinfo=VN_TZ), VN_TZ) is None
    assert quiet.release_at(datetime(2026, 11, 23, 20, 59, tzinfo=VN_TZ), VN_TZ) is None
    lunch = QuietHours(time(11, 30), time(13, 0))  # a window within one day
    assert lunch.release_at(datetime(2026, 11, 23, 12, 0, tzinfo=VN_TZ), VN_TZ) == datetime(2026, 11, 23, 13, 0, tzinfo=VN_TZ)
    with pytest.raises(ValueError):
        QuietHours.parse("21:00")


def test_deadline_alerts_go_to_the_agencys_staff_or_to_the_counter() -> None:
    directory = {"CA-XA": ["cutru@ca-xa.vn"], "*": ["tiepnhan@hcc.vn"]}
    assert staff_for(directory, "CA-XA") == ["cutru@ca-xa.vn"]
    assert staff_for(directory, "BHXH") == ["tiepnhan@hcc.vn"] and staff_for(directory, None) == ["tiepnhan@hcc.vn"]
    assert staff_for({}, "CA-XA") == ()


def test_a_supplement_request_is_announced_by_the_service_that_asked() -> None:
    assert announces_supplement_request("intake", "counter") and announces_supplement_request("routing", "CA-XA")
    assert not announces_supplement_request("routing", "counter") and not announces_supplement_request("intake", "CA-XA")


def test_the_rate_limit_spaces_sends_so_no_second_holds_more_than_the_rate() -> None:
    spacing = Spacing(5)
    slots = [spacing.slot(100.0) for _ in range(11)]
    assert slots[0] == 100.0 and all(b - a == pytest.approx(0.2) for a, b in zip(slots, slots[1:], strict=False))
    assert spacing.slot(200.0) == 200.0  # idle time is not saved up into a burst
