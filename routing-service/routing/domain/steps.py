"""The life of one step of a route at its agency (pure): which action is legal in which state.

States: `waiting` (predecessors not done) → `assigned` (handed over, bàn giao) → `accepted`
(an officer took it on, tiếp nhận) → `done`. While `accepted` the agency may wait for the
citizen (`supplement`: Phiếu yêu cầu bổ sung; `fee`: nghĩa vụ tài chính) or stop handling
(`stopped`: dừng giải quyết); it may also return the step, transfer it, or refuse the dossier.
`refused` and `cancelled` (withdrawn or refused elsewhere) are final."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

StepStatus = Literal["waiting", "assigned", "accepted", "supplement", "fee", "stopped", "done", "refused", "cancelled"]
Action = Literal[
    "accept",
    "complete",
    "return",
    "supplement",
    "supplement_received",
    "fee",
    "fee_paid",
    "stop",
    "resume",
    "refuse",
    "transfer",
    "cancel",
]

OPEN: frozenset[str] = frozenset({"assigned", "accepted", "supplement", "fee", "stopped"})
WORKING: frozenset[str] = frozenset({"assigned", "accepted"})

# action -> (states it is legal from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({"assigned"}), "accepted"),
    "complete": (WORKING, "done"),
    "return": (WORKING, "waiting"),
    "supplement": (WORKING, "supplement"),
    "supplement_received": (frozenset({"supplement"}), "accepted"),
    "fee": (WORKING, "fee"),
    "fee_paid": (frozenset({"fee"}), "accepted"),
    "stop": (WORKING, "stopped"),
    "resume": (frozenset({"stopped"}), "accepted"),
    "refuse": (WORKING | {"supplement", "stopped"}, "refused"),
    "transfer": (WORKING, "assigned"),
    "cancel": (OPEN | {"waiting"}, "cancelled"),
}


@dataclass(frozen=True)
class Command:
    """What an officer (or the agency's own system) asks of a step; each action reads the fields it needs.
    Who asks is not part of it: that is the caller (`routing.application.actions.StepOfficer`)."""

    action: Action
    note: str | None = None
    reason: str | None = None  # a return, stop, transfer; for a refusal, its legal ground
    result_documents: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)  # a supplement request: every missing item
    to_step_id: str | None = None
    to_agency_code: str | None = None
    amount_vnd: int | None = None
    description: str | None = None
    receipt_ref: str | None = None


class IllegalTransition(Exception):
    def __init__(self, action: str, state: str) -> None:
        super().__init__(f"cannot {action.replace('_', ' ')} a step that is {state}")
        self.action = action
        self.state = state


def allowed_from(action: str) -> frozenset[str]:
    return TRANSITIONS[action][0]


def next_state(state: str, action: str) -> str:
    """The state after `action`, or IllegalTransition."""
    sources, target = TRANSITIONS[action]
    if state not in sources:
        raise IllegalTransition(action, state)
    return target


def return_target(after: list[str], requested: str | None) -> str:
    """Which step a return goes back to: the one named, which must be a direct predecessor, or the last predecessor."""
    if not after:
        raise ValueError("the first step has no previous step to return to")
    if requested is None:
        return after[-1]
    if requested not in after:
        raise ValueError(f"{requested} is not a previous step of this one")
    return requested
