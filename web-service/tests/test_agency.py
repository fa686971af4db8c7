"""The agency officer's rules, without I/O: which actions a step's state offers, the body each form
posts, the field errors shown beside the fields, and which inbox rows are late or about to be."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from web.domain.agency import BY_KEY, actions_for, body_for, field_errors, lines, urgency


def keys(state: str, *, has_previous: bool = True) -> list[str]:
    return [a.key for a in actions_for(state, has_previous=has_previous)]


def test_a_new_step_is_taken_on_and_an_accepted_one_handled() -> None:
    assert keys("assigned")[0] == "accept"
    assert "accept" not in keys("accepted")
    assert set(keys("accepted")) == {"complete", "supplement", "fee", "stop", "return", "transfer", "refuse"}


def test_a_waiting_step_offers_only_what_ends_the_wait() -> None:
    assert keys("supplement") == ["refuse"]  # the supplement itself is recorded at the counter
    assert keys("fee") == ["fee-payment"]
    assert keys("stopped") == ["resume", "refuse"]


@pytest.mark.parametrize("state", ["waiting", "done", "refused", "cancelled", "unknown"])
def test_steps_not_at_the_agency_or_finished_offer_nothing(state: str) -> None:
    assert keys(state) == []


def test_only_a_step_with_a_previous_step_can_be_returned() -> None:
    assert "return" in keys("accepted", has_previous=True)
    assert "return" not in keys("accepted", has_previous=False)


def test_result_documents_and_supplement_items_are_one_a_line() -> None:
    assert lines("  Trích lục khai sinh \n\n Tờ khai \r\n") == ["Trích lục khai sinh", "Tờ khai"]
    body = body_for(BY_KEY["complete"], {"result_documents": "Trích lục khai sinh số 1\nTờ khai", "note": " "})
    assert body == {"result_documents": ["Trích lục khai sinh số 1", "Tờ khai"]}


def test_an_empty_required_list_is_sent_empty_for_the_api_to_name_it() -> None:
    assert body_for(BY_KEY["supplement"], {"items": "  ", "reason": ""}) == {"items": []}
    assert body_for(BY_KEY["complete"], {}) == {}  # a completion may carry no document


def test_amounts_go_as_typed_without_thousands_separators() -> None:
    assert body_for(BY_KEY["fee"], {"amount_vnd": "500.000", "description": "Lệ phí"}) == {
        "amount_vnd": "500000",
        "description": "Lệ phí",
    }
    assert body_for(BY_KEY["fee-payment"], {"amount_vnd": "", "receipt_ref": "BL-1"}) == {"receipt_ref": "BL-1"}


def test_field_errors_are_said_in_vietnamese_beside_their_field() -> None:
    shown = field_errors(
        [
            {"field": "items", "message": "List should have at least 1 item", "code": "too_short"},
            {"field": "amount_vnd", "message": "Input should be a valid integer", "code": "int_parsing"},
            {"field": "to_agency_code", "message": "unknown agency 'X'", "code": "invalid"},
            {"field": "items.0", "message": "second error of the same box", "code": "string_too_short"},
        ]
    )
    assert shown == {
        "items": "Cần ít nhất một mục.",
        "amount_vnd": "Hãy nhập số tiền bằng chữ số (đồng).",
        "to_agency_code": "unknown agency 'X'",
    }


NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def test_a_step_past_its_due_time_is_overdue_and_one_due_within_four_working_hours_at_risk() -> None:
    assert urgency("accepted", NOW - timedelta(minutes=1), NOW, -0.1) == "overdue"
    assert urgency("assigned", NOW + timedelta(hours=3), NOW, 3.0) == "at-risk"
    assert urgency("assigned", NOW + timedelta(hours=20), NOW, 4.0) == "at-risk"  # over a night: working hours count
    assert urgency("accepted", NOW + timedelta(days=2), NOW, 12.0) == ""


@pytest.mark.parametrize("state", ["supplement", "fee", "stopped", "done", "waiting"])
def test_paused_finished_or_waiting_steps_are_not_marked(state: str) -> None:
    assert urgency(state, NOW - timedelta(days=3), NOW, -24.0) == ""
