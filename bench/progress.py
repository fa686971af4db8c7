"""What `make bench` says while it runs: each phase with its number, how long it took, and about how
long the run has left, from the phases' planned durations.

    [bench] 5/11 end to end at 200/s for 20 s… (about 6 min 10 s left)
    [bench] 5/11 end to end at 200/s for 20 s: done in 27 s
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Phase:
    label: str
    planned_s: float


def duration(seconds: float) -> str:
    """A duration as a person reads it: "45 s", "3 min 05 s", "1 h 02 min"."""
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def time_left(phases: list[Phase], current: int) -> float:
    """Seconds the run still needs by plan as phase `current` (0-based) starts: it and every later one."""
    return float(sum(p.planned_s for p in phases[current:]))


class Progress:
    """Counts the run's phases in order and writes one line as each starts and one as it ends."""

    def __init__(
        self,
        phases: list[Phase],
        write: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.phases = phases
        self.write = write or (lambda line: print(line, file=sys.stderr, flush=True))
        self.clock = clock
        self.started = clock()
        self.index = 0

    @contextmanager
    def next_phase(self) -> Iterator[None]:
        """Run the next planned phase, announced before it starts and timed when it ends."""
        if self.index >= len(self.phases):
            raise RuntimeError("every planned phase has run")
        number, total, label = self.index + 1, len(self.phases), self.phases[self.index].label
        left = time_left(self.phases, self.index)
        self.write(f"[bench] {number}/{total} {label}… (about {duration(left)} left)")
        begun = self.clock()
        outcome = "failed after"
        try:
            yield
            outcome = "done in"
        finally:
            took = self.clock() - begun
            self.index += 1
            self.write(
                f"[bench] {number}/{total} {label}: {outcome} {duration(took)}"
                f" ({duration(self.clock() - self.started)} since the start)"
            )
