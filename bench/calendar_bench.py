"""Benchmark of the working-time calendar: deadlines computed and working time measured per
second, on random instants over 2020–2035. Prints JSON (median of several runs) on stdout.

    PYTHONPATH=. .venv/bin/python bench/calendar_bench.py [--n 200000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import datetime, timedelta

from services.calendar import VN_TZ, WorkingCalendar


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(7)
    origin = datetime(2020, 1, 1, tzinfo=VN_TZ)
    starts = [origin + timedelta(minutes=rng.randrange(15 * 365 * 24 * 60)) for _ in range(args.n)]
    budgets = [rng.choice((4, 8, 16, 24, 40, 80, 120, 240)) for _ in range(args.n)]

    first = time.perf_counter()
    calendar = WorkingCalendar()
    calendar.is_working_day(origin.date())  # builds the table
    build_s = time.perf_counter() - first

    add_s, between_s, start_s = [], [], []
    for _ in range(args.runs):
        t = time.perf_counter()
        dues = [calendar.add_working_hours(s, b) for s, b in zip(starts, budgets, strict=False)]
        add_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        for s, d in zip(starts, dues, strict=False):
            calendar.working_hours_between(s, d)
        between_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        for s in starts:
            calendar.clock_start(s)
        start_s.append(time.perf_counter() - t)

    def figures(samples: list[float]) -> dict[str, float]:
        median = statistics.median(samples)
        return {
            "median_s": round(median, 4),
            "per_second": round(args.n / median),
            "us_per_call": round(median / args.n * 1e6, 3),
        }

    print(
        json.dumps(
            {
                "benchmark": "calendar",
                "n": args.n,
                "runs": args.runs,
                "table_build_s": round(build_s, 4),
                "add_working_hours": figures(add_s),
                "working_hours_between": figures(between_s),
                "clock_start": figures(start_s),
            }
        )
    )


if __name__ == "__main__":
    main()
