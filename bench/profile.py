"""Where the CPU goes: dossiers offered at a fixed rate while py-spy samples every service.

    python -m bench.profile --rate 60 --seconds 30

Writes each service's collapsed stacks to bench/profiles/ (for speedscope or flamegraph.pl) and
prints each service's functions with the most samples, by their own time and by everything they
call; then, from pg_stat_statements, the SQL statements run per dossier and the costliest ones."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.e2e import run_rate
from bench.system import BenchSystem, start_system
from infra.stack import PROFILES, REPO, Stack

OUT = REPO / "bench" / "profiles"


def py_spy() -> str:
    return str(Path(sys.executable).parent / "py-spy")


def top(collapsed: Path, n: int) -> tuple[list[tuple[str, int]], list[tuple[str, int]], int]:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    return own.most_common(n), inclusive.most_common(n), total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--rate", type=float, default=60)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--services", default="intake,routing,deadline,notify")
    parser.add_argument("--native", action="store_true", help="C frames too (py-spy then pauses the process for each sample)")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)

    # A server started here loads pg_stat_statements; stop the bench stack first if it is running.
    os.environ.setdefault("MOTCUA_PG_OPTIONS", "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all")
    stack = Stack(PROFILES["bench"])
    system: BenchSystem | None = None
    spies: dict[str, subprocess.Popen[bytes]] = {}
    try:
        stack.up()
        system = start_system(stack, "profile")
        database, database_url = system.database, system.database_url
        asyncio.run(run_rate(system.intake, system.token(), database_url, 20, 3, system.units))
        stack.postgres.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", database=database)
        stack.postgres.psql("SELECT pg_stat_statements_reset()", database=database)
        for name in args.services.split(","):
            pid = system.services[name].process.pid  # type: ignore[union-attr]
            spies[name] = subprocess.Popen(
                [
                    py_spy(),
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(int(args.seconds)),
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "--output",
                    str(OUT / f"{name}.collapsed"),
                    *(["--native"] if args.native else ["--nonblocking"]),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        figures = asyncio.run(run_rate(system.intake, system.token(), database_url, args.rate, args.seconds, system.units))
        for spy in spies.values():
            spy.wait(timeout=args.seconds + 60)
        dossiers = figures["intake_to_notice"]["noticed"]
        statements = stack.postgres.psql(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
            f"WHERE d.datname = '{database}'",
            database=database,
        )
        costliest = stack.postgres.psql(
            "SELECT calls || ' | ' || round(total_exec_time::numeric, 0) || ' ms | ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 140) "
            f"FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '{database}' ORDER BY calls DESC LIMIT 40",
            database=database,
        )
    finally:
        if system is not None:
            system.stop()
        stack.down()

    print(
        f"offered {args.rate}/s for {args.seconds}s: intake {figures['intake_latency_ms']}, notice {figures['intake_to_notice']['latency_ms']}"
    )
    print(f"\n=== SQL: {int(statements) / max(dossiers, 1):.1f} statements per dossier ({statements} for {dossiers} dossiers)")
    print("calls | time | statement")
    print(costliest)
    for name in spies:
        own, inclusive, total = top(OUT / f"{name}.collapsed", args.top)
        print(f"\n=== {name}: {total} samples")
        print("-- own time")
        for frame, samples in own:
            print(f"{100 * samples / total:5.1f}%  {frame}")
        print("-- including callees")
        for frame, samples in inclusive:
            print(f"{100 * samples / total:5.1f}%  {frame}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
