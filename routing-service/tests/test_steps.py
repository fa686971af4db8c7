import pytest

from routing.domain.national import phase_from_steps, portal_date, status_code
from routing.domain.steps import IllegalTransition, next_state, return_target


def test_an_assigned_step_is_accepted_then_completed() -> None:
    assert next_state("assigned", "accept") == "accepted"
    assert next_state("accepted", "complete") == "done"


def test_a_done_step_cannot_be_completed_again() -> None:
    with pytest.raises(IllegalTransition, match="cannot complete a step that is done"):
        next_state("done", "complete")


@pytest.mark.parametrize(
    ("pause", "resume", "paused_state"),
    [("supplement", "supplement_received", "supplement"), ("fee", "fee_paid", "fee"), ("stop", "resume", "stopped")],
)
def test_pauses_wait_for_the_citizen_and_resume_to_handling(pause: str, resume: str, paused_state: str) -> None:
    assert next_state("accepted", pause) == paused_state
    assert next_state(paused_state, resume) == "accepted"
    with pytest.raises(IllegalTransition):
        next_state(paused_state, "complete")


def test_refused_and_cancelled_steps_are_final() -> None:
    for action in ("accept", "complete", "return", "transfer", "supplement"):
        for state in ("refused", "cancelled", "done"):
            with pytest.raises(IllegalTransition):
                next_state(state, action)


def test_a_return_goes_to_a_direct_predecessor_only() -> None:
    assert return_target(["civil-status"], None) == "civil-status"
    with pytest.raises(ValueError, match="no previous step"):
        return_target([], None)
    with pytest.raises(ValueError, match="not a previous step"):
        return_target(["civil-status"], "health-insurance")


def test_national_status_follows_the_steps() -> None:
    assert status_code(phase_from_steps(["assigned", "waiting", "waiting"])) == 4
    assert status_code(phase_from_steps(["done", "supplement", "accepted"])) == 5
    assert status_code(phase_from_steps(["done", "fee", "accepted"])) == 6
    assert status_code(phase_from_steps(["done", "stopped"])) == 8
    assert status_code(phase_from_steps(["done", "done", "done"])) == 9
    assert [status_code(p) for p in ("received", "refused", "withdrawn", "delivered")] == [2, 3, 7, 10]


def test_portal_dates_are_vietnam_time_without_separators() -> None:
    from datetime import UTC, datetime

    assert portal_date(datetime(2026, 11, 22, 2, 5, 9, tzinfo=UTC)) == "20261122090509"
