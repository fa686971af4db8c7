"""The route of a dossier: which steps can start once others are done, and when a step is due (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.calendar import WorkingCalendar


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


def step_due_at(calendar: WorkingCalendar, assigned_at: datetime | None, budget_hours: float) -> datetime | None:
    """A step is due its budget in working time after it was handed to its agency (the clock starts
    at the next working instant); pauses are the deadline service's to count."""
    if assigned_at is None:
        return None
    return calendar.add_working_hours(calendar.clock_start(assigned_at), budget_hours)
