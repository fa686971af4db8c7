"""Someone watching `make run` start the stack sees a line every ten seconds while a server starts."""

from __future__ import annotations

import pytest

from infra.stack import wait_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_long_wait_says_so_every_ten_seconds() -> None:
    clock = FakeClock()
    lines: list[str] = []
    wait_until(
        lambda: clock.now >= 1025,
        180,
        "Keycloak to serve the realm",
        progress=lines.append,
        clock=clock,
        sleep=clock.sleep,
    )
    assert lines == [
        "waiting for Keycloak to serve the realm (10 s of at most 180 s)…",
        "waiting for Keycloak to serve the realm (20 s of at most 180 s)…",
    ]


def test_a_quick_wait_stays_quiet() -> None:
    clock = FakeClock()
    lines: list[str] = []
    wait_until(lambda: clock.now >= 1003, 60, "PostgreSQL", progress=lines.append, clock=clock, sleep=clock.sleep)
    assert lines == []


def test_a_wait_that_runs_out_still_fails() -> None:
    clock = FakeClock()
    lines: list[str] = []
    with pytest.raises(RuntimeError, match="timed out after 30s waiting for Kafka"):
        wait_until(lambda: False, 30, "Kafka", progress=lines.append, clock=clock, sleep=clock.sleep)
    assert len(lines) == 2


def test_progress_goes_to_stderr_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    clock = FakeClock()
    wait_until(lambda: clock.now >= 1012, 60, "PostgreSQL", clock=clock, sleep=clock.sleep)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "[stack] waiting for PostgreSQL (10 s of at most 60 s)…" in captured.err
