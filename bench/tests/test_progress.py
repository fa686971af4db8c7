"""Someone watching `make bench` sees which phase runs, out of how many, how long each took and
about how long the run has left."""

from __future__ import annotations

import pytest

from bench.__main__ import plan
from bench.progress import Phase, Progress, duration, time_left


def test_durations_read_as_a_person_says_them() -> None:
    assert duration(0.4) == "0 s"
    assert duration(45) == "45 s"
    assert duration(185) == "3 min 05 s"
    assert duration(3720) == "1 h 02 min"


def test_time_left_counts_the_current_phase_and_every_later_one() -> None:
    phases = [Phase("a", 60), Phase("b", 30), Phase("c", 10)]
    assert time_left(phases, 0) == 100
    assert time_left(phases, 2) == 10
    assert time_left(phases, 3) == 0


def test_each_phase_is_numbered_timed_and_followed_by_the_time_left() -> None:
    now = [0.0]
    lines: list[str] = []
    progress = Progress([Phase("stack", 60), Phase("end to end at 200/s for 20 s", 30)], lines.append, lambda: now[0])
    with progress.next_phase():
        now[0] += 84
    with progress.next_phase():
        now[0] += 27
    assert lines == [
        "[bench] 1/2 stack… (about 1 min 30 s left)",
        "[bench] 1/2 stack: done in 1 min 24 s (1 min 24 s since the start)",
        "[bench] 2/2 end to end at 200/s for 20 s… (about 30 s left)",
        "[bench] 2/2 end to end at 200/s for 20 s: done in 27 s (1 min 51 s since the start)",
    ]
    with pytest.raises(RuntimeError), progress.next_phase():
        pass


def test_a_failing_phase_says_so_and_how_long_it_ran() -> None:
    lines: list[str] = []
    progress = Progress([Phase("stack", 60)], lines.append, lambda: 0.0)
    with pytest.raises(OSError), progress.next_phase():
        raise OSError("port taken")
    assert lines[-1].startswith("[bench] 1/1 stack: failed after 0 s")


def test_the_full_run_plans_every_rate_and_about_ten_minutes() -> None:
    phases = plan(quick=False, rates=[50, 100, 200, 500], sustain_rate=100, step_seconds=20, sustain_seconds=60)
    labels = [p.label for p in phases]
    assert "end to end at 200/s for 20 s" in labels
    assert "sustained at 100/s for 60 s" in labels
    assert 8 * 60 <= time_left(phases, 0) <= 12 * 60
