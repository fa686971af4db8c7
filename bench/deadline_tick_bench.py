"""Benchmark of the deadline timer tick with 1M open timers. Prints JSON (medians) on stdout.

Seeds a fresh database with N open step deadlines and their overdue timers (generate_series,
one due time a minute from 1/1/2030), then runs the service's own tick (`fire_due_timers`) at instants that make
`--due` timers fall due each time, and ticks where nothing is due (the idle cost, which must not
grow with N: the tick reads the index on the next firing time, it never scans open dossiers).

    PYTHONPATH=.:deadline-service .venv/bin/python bench/deadline_tick_bench.py [--timers 1000000] [--profile bench|test]

Uses the bench profile's PostgreSQL (started if needed, and stopped again); Kafka is not needed (events go to the outbox).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "deadline-service")]

from sqlalchemy import text  # noqa: E402

from infra.stack import PROFILES, Stack  # noqa: E402
from services.calendar import VN_TZ  # noqa: E402
from services.migrations import upgrade  # noqa: E402

T0 = datetime(2030, 1, 1, tzinfo=VN_TZ)


async def run(args: argparse.Namespace, database_url: str) -> dict[str, object]:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("TOPIC_PREFIX", "bench")
    # The runtime needs an issuer to exist; timers take no tokens, so Keycloak is never asked.
    os.environ.setdefault("OIDC_ISSUER", PROFILES[args.profile].issuer)
    os.environ.update(PROFILES[args.profile].personal_data_env())  # deadline's key ring, as its process has it
    from deadline.application.timers import fire_due_timers
    from deadline.service import definition
    from services.runtime import Runtime

    runtime = Runtime(definition)
    deadline = runtime.wiring
    started = time.perf_counter()
    async with runtime.engine.begin() as conn:
        await conn.execute(text("SET LOCAL synchronous_commit = off"))
        await conn.execute(
            text(f"""
            INSERT INTO deadline.deadlines (dossier_id, scope, step_id, agency_code, agency_name, started_at, due_at, budget_hours, state)
            SELECT md5(i::text)::uuid, 'step', 's1', 'A' || (i % 50), 'Agency', CAST(:t0 AS timestamptz), CAST(:t0 AS timestamptz) + make_interval(mins => i), 16, 'open'
            FROM generate_series(1, {args.timers}) AS i"""),
            {"t0": T0},
        )
        await conn.execute(
            text(f"""
            INSERT INTO deadline.timers (dossier_id, scope, step_id, kind, due_at, fire_at)
            SELECT md5(i::text)::uuid, 'step', 's1', 'overdue', CAST(:t0 AS timestamptz) + make_interval(mins => i), CAST(:t0 AS timestamptz) + make_interval(mins => i)
            FROM generate_series(1, {args.timers}) AS i"""),
            {"t0": T0},
        )
    async with runtime.engine.connect() as conn:
        await conn.execute(text("ANALYZE deadline.timers"))
        await conn.execute(text("ANALYZE deadline.deadlines"))
        await conn.commit()
    seed_s = time.perf_counter() - started

    batch = deadline.settings.tick_batch
    idle, busy = [], []
    for run_no in range(args.runs):
        at = T0 + timedelta(minutes=(run_no + 1) * args.due)
        t = time.perf_counter()
        result = await fire_due_timers(deadline.uow, deadline.rules, at, batch=batch, min_extension_hours=8.0)
        busy.append(time.perf_counter() - t)
        assert result.overdue == args.due, result
        t = time.perf_counter()
        result = await fire_due_timers(deadline.uow, deadline.rules, at, batch=batch, min_extension_hours=8.0)  # nothing left due
        idle.append(time.perf_counter() - t)
        assert result.fired == 0
    async with runtime.engine.connect() as conn:
        open_timers = (await conn.execute(text("SELECT count(*) FROM deadline.timers WHERE fire_at IS NOT NULL"))).scalar_one()
        plan = (
            (
                await conn.execute(
                    text(
                        "EXPLAIN SELECT id FROM deadline.timers WHERE fire_at IS NOT NULL AND fire_at <= :at ORDER BY fire_at LIMIT 500 FOR UPDATE SKIP LOCKED"
                    ),
                    {"at": T0},
                )
            )
            .scalars()
            .all()
        )
    await runtime.engine.dispose()
    busy_median = statistics.median(busy)
    return {
        "benchmark": "deadline_tick",
        "open_timers": open_timers,
        "seed_s": round(seed_s, 2),
        "runs": args.runs,
        "timers_due_per_tick": args.due,
        "batch": batch,
        "tick_with_due_median_s": round(busy_median, 4),
        "timers_fired_per_second": round(args.due / busy_median),
        "idle_tick_median_ms": round(statistics.median(idle) * 1000, 3),
        "claim_plan_uses_index": any("ix_timers_fire_at" in line for line in plan),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timers", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=2_000, help="timers falling due per tick")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", default="bench", choices=sorted(PROFILES))
    args = parser.parse_args()
    stack = Stack(PROFILES[args.profile])
    we_started = stack.postgres.up()
    name = f"motcua_bench_{os.getpid()}"
    stack.postgres.psql(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://motcua@127.0.0.1:{stack.profile.pg_port}/{name}"
    try:
        upgrade(REPO / "deadline-service" / "migrations", url)
        print(json.dumps(asyncio.run(run(args, url))))
    finally:
        stack.postgres.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if we_started:
            stack.postgres.down()


if __name__ == "__main__":
    main()
