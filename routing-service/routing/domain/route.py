"""The route of a dossier: which steps can start once others are done (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class StepState:
    step_id: str
    after: tuple[str, ...]
    state: str  # waiting | assigned | done


def ready_steps(steps: Iterable[StepState]) -> list[str]:
    """Waiting steps whose predecessors are all done: parallel branches start together."""
    steps = list(steps)
    done = {s.step_id for s in steps if s.state == "done"}
    return [s.step_id for s in steps if s.state == "waiting" and set(s.after) <= done]


def route_complete(steps: Iterable[StepState]) -> bool:
    return all(s.state == "done" for s in steps)
