"""The citizen-facing life of a dossier as national-portal statuses (1–10): which counter
commands are legal in which status, and how the other services' events move the status.

Pure: no database, no Kafka. A paused dossier (5, 6, 8) remembers the status to go back to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.vocabulary import FINAL_STATUSES, PAUSED_STATUSES, PortalStatus

S = PortalStatus


class Command(StrEnum):
    """What the counter or the citizen can do to a dossier through intake."""

    REQUEST_SUPPLEMENT = "request_supplement"  # Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (form 2)
    RECEIVE_SUPPLEMENT = "receive_supplement"
    REFUSE = "refuse"  # Phiếu từ chối tiếp nhận giải quyết hồ sơ (form 3)
    WITHDRAW = "withdraw"
    RETURN_RESULT = "return_result"
    RATE = "rate"


ALLOWED_FROM: dict[Command, frozenset[PortalStatus]] = {
    Command.REQUEST_SUPPLEMENT: frozenset({S.SUBMITTED_ONLINE, S.ACCEPTED, S.IN_PROGRESS}),
    Command.RECEIVE_SUPPLEMENT: frozenset({S.SUPPLEMENT_REQUESTED}),
    Command.REFUSE: frozenset({S.SUBMITTED_ONLINE, S.ACCEPTED, S.SUPPLEMENT_REQUESTED}),
    Command.WITHDRAW: frozenset(
        {S.SUBMITTED_ONLINE, S.ACCEPTED, S.IN_PROGRESS, S.SUPPLEMENT_REQUESTED, S.AWAITING_PAYMENT, S.STOPPED}
    ),
    Command.RETURN_RESULT: frozenset({S.RESULT_READY}),
    Command.RATE: frozenset({S.DELIVERED}),
}


@dataclass(frozen=True)
class State:
    status: PortalStatus
    resume_status: PortalStatus | None = None  # where a paused dossier goes back to
    rated: bool = False


class IllegalTransition(Exception):
    def __init__(self, command: str, state: State) -> None:
        super().__init__(f"cannot {command} a dossier in status {int(state.status)}")
        self.command = command
        self.state = state


def _pause(state: State, to: PortalStatus) -> State:
    back = state.resume_status if state.status in PAUSED_STATUSES else state.status
    return State(to, back or S.IN_PROGRESS, state.rated)


def _resume(state: State) -> State:
    return State(state.resume_status or S.IN_PROGRESS, None, state.rated)


def apply_command(state: State, command: Command) -> State:
    """The state after a counter or citizen command; `IllegalTransition` (→ 409) when not allowed."""
    if state.status not in ALLOWED_FROM[command] or (command is Command.RATE and state.rated):
        raise IllegalTransition(command.value, state)
    match command:
        case Command.REQUEST_SUPPLEMENT:
            return _pause(state, S.SUPPLEMENT_REQUESTED)
        case Command.RECEIVE_SUPPLEMENT:
            return _resume(state)
        case Command.REFUSE:
            return State(S.REFUSED)
        case Command.WITHDRAW:
            return State(S.WITHDRAWN)
        case Command.RETURN_RESULT:
            return State(S.DELIVERED)
        case Command.RATE:
            return State(state.status, None, True)


def apply_event(state: State, event_type: str) -> State:
    """The state after another service's event. Events never revive a closed dossier, and an
    event that does not fit the current status leaves it as it is (the timeline still shows it)."""
    if state.status in FINAL_STATUSES:
        return state
    paused = state.status in PAUSED_STATUSES
    match event_type:
        case (
            "routing.step_assigned"
            | "routing.step_accepted"
            | "routing.step_completed"
            | "routing.step_returned"
            | "routing.step_transferred"
        ):
            if paused:
                # handling moved on while the citizen owes something: resume into "being handled"
                return (
                    State(state.status, S.IN_PROGRESS, state.rated)
                    if state.resume_status in (None, S.ACCEPTED, S.SUBMITTED_ONLINE)
                    else state
                )
            return State(S.IN_PROGRESS) if state.status in (S.ACCEPTED, S.SUBMITTED_ONLINE) else state
        case "dossier.supplement_requested":
            return _pause(state, S.SUPPLEMENT_REQUESTED)
        case "routing.fee_requested":
            return _pause(state, S.AWAITING_PAYMENT)
        case "routing.fee_paid":
            return _resume(state) if state.status is S.AWAITING_PAYMENT else state
        case "routing.handling_stopped":
            return _pause(state, S.STOPPED)
        case "routing.handling_resumed":
            return _resume(state) if state.status is S.STOPPED else state
        case "routing.route_completed":
            return State(S.RESULT_READY)
        case "dossier.refused":
            return State(S.REFUSED)
    return state
