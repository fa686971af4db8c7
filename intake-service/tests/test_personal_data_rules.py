"""Intake's personal-data rules without I/O: which blind index a staff search text goes to, which
dossiers a citizen's erasure may touch, and when a request has been answered everywhere."""

from __future__ import annotations

import pytest

from intake.domain.personal_data import (
    ERASED_APPLICANT,
    KEPT_IN_PROGRESS,
    complete,
    erasable,
    new_request_id,
    search_kind,
    valid_citizen_id,
)
from services.vocabulary import PortalStatus


@pytest.mark.parametrize(
    ("q", "kind"),
    [
        ("079190001234", "citizen_id"),
        (" 079190001234 ", "citizen_id"),
        ("0912345678", "phone"),
        ("0912 345 678", "phone"),
        ("091.234.5678", "phone"),
        ("+84912345678", "phone"),
        ("Nguyễn Thị Lan", "name"),
        ("Lan", "name"),
        ("02438253636", "phone"),  # a landline, 11 digits with its area code
        ("079190", "name"),  # too short for either
        ("000.00.00.H30-261123-0001", "name"),  # a dossier code also matches by code, not by index
    ],
)
def test_a_search_text_goes_to_the_citizen_id_phone_or_name_index(q: str, kind: str) -> None:
    assert search_kind(q) == kind


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (PortalStatus.DELIVERED, True),
        (PortalStatus.WITHDRAWN, True),
        (PortalStatus.REFUSED, True),
        (PortalStatus.ACCEPTED, False),
        (PortalStatus.IN_PROGRESS, False),
        (PortalStatus.SUPPLEMENT_REQUESTED, False),
        (PortalStatus.STOPPED, False),
        (PortalStatus.RESULT_READY, False),  # the result is ready, not yet handed over: the contact is still needed
    ],
)
def test_only_a_dossier_whose_procedure_ended_may_be_erased_and_one_kept_says_why(status: PortalStatus, allowed: bool) -> None:
    assert erasable(status) == ((True, None) if allowed else (False, KEPT_IN_PROGRESS))


def test_a_citizen_id_is_twelve_digits() -> None:
    assert valid_citizen_id("079190001234") and valid_citizen_id(" 079190001234 ")
    assert not valid_citizen_id("07919000123") and not valid_citizen_id("07919000123a") and not valid_citizen_id("")


def test_a_request_is_complete_once_routing_deadline_and_notify_answered_for_every_dossier() -> None:
    assert not complete({"d1": {"intake": 1, "routing": 0, "deadline": 0}, "d2": {"intake": 1}})
    assert not complete({"d1": {"intake": 1, "routing": 0, "deadline": 0, "notify": 2}, "d2": {"intake": 1}})
    assert complete({"d1": {"intake": 1, "routing": 0, "deadline": 0, "notify": 2}})
    assert complete({})  # a citizen with no dossier: nothing to wait for


def test_an_erased_applicant_and_a_request_id_say_nothing_personal() -> None:
    assert ERASED_APPLICANT == {"erased": True, "name": "[đã xoá]"}
    assert new_request_id().startswith("pdr-") and len(new_request_id()) == 36
