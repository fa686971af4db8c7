"""`make bench`: one run on this machine, everything on the same cores, written to BENCHMARKS.md.

python -m bench                 the full run (about 10 minutes)
python -m bench --quick         shorter runs, to check the harness
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.console import measure_console
from bench.cpu import CpuMeter
from bench.e2e import run_rate
from bench.progress import Phase, Progress
from bench.raw_limits import kafka_producer_throughput, pgbench_insert_tps
from bench.system import BenchSystem, start_system
from infra.stack import PROFILES, REPO, Stack

COMMAND = "make bench"


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def run_script(path: Path, *args: str) -> dict[str, Any] | None:
    """Run another benchmark script that prints its figures as JSON (calendar, deadline tick)."""
    if not path.exists():
        return None
    out = subprocess.run([sys.executable, str(path), *args], cwd=REPO, capture_output=True, text=True, env={**os.environ})
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def previous_run(path: Path) -> dict[str, Any] | None:
    """The last committed run's headline figures, so the report shows what changed since."""
    try:
        before = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if "(--quick)" in before.get("command", ""):
        return before.get("previous")
    return {
        "date": before["machine"]["date"],
        "sustained_offered_per_s": before.get("sustained", {}).get("offered_per_s"),
        "end_to_end_per_s": before.get("sustained", {}).get("intake_to_notice", {}).get("end_to_end_per_s"),
        "cpu_ms_per_dossier": before.get("cpu_ms_per_dossier"),
    }


def console_pages(stack: Stack, system: BenchSystem, runs: int) -> list[dict[str, Any]]:
    """The console's pages over the dossiers the sustained run filed, beside the calls they rest on."""
    token = system.token()
    newest = httpx.get(f"{system.intake}/dossiers", params={"limit": 1}, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    dossier_id = newest.json()["items"][0]["id"]
    pages = [
        {"label": "unit's queue, 50 newest", "path": "/ho-so", "service": "intake", "api": "/dossiers?limit=50"},
        {
            "label": "a dossier (6 calls in parallel)",
            "path": f"/ho-so/{dossier_id}",
            "service": "intake",
            "api": f"/dossiers/{dossier_id}",
        },
        {
            "label": "receipt, form 1 (HTML)",
            "path": f"/ho-so/{dossier_id}/bien-nhan",
            "service": "intake",
            "api": f"/dossiers/{dossier_id}/receipt",
        },
        {
            "label": "receipt, form 1 (PDF)",
            "path": f"/ho-so/{dossier_id}/bien-nhan.pdf",
            "service": "intake",
            "api": f"/dossiers/{dossier_id}/receipt",
        },
        {
            "label": "on-time statistics by unit, this month",
            "path": "/thong-ke",
            "service": "deadline",
            "api": "/reports/on-time?by=unit",
        },
        {"label": "statistics as .xlsx", "path": "/thong-ke.xlsx", "service": "deadline", "api": "/reports/on-time?by=unit"},
    ]
    urls = {name: process.url for name, process in system.services.items()}
    return measure_console(stack, system.env, urls, system.officer, token, pages, stack.profile.root / "logs", runs)


def plan(quick: bool, rates: list[float], sustain_rate: float, step_seconds: int, sustain_seconds: int) -> list[Phase]:
    """The run's phases in order, each with about how long it takes on this machine (what the time
    left is estimated from); a load phase is planned as its length plus the wait for its last notices."""
    runs = 1 if quick else 3
    return [
        Phase("starting PostgreSQL, Kafka and Keycloak", 60),
        Phase("PostgreSQL's insert rate (pgbench)", runs * (5 if quick else 10) + 5),
        Phase("Kafka's producer throughput (ProducerPerformance)", runs * (8 if quick else 20)),
        Phase("starting intake, routing, deadline, notify", 20),
        Phase("warm-up at 20/s for 3 s", 10),
        *(Phase(f"end to end at {rate:.0f}/s for {step_seconds} s", step_seconds + 10) for rate in rates),
        Phase(f"sustained at {sustain_rate:.0f}/s for {sustain_seconds} s", sustain_seconds + 10),
        Phase(f"the web console's pages, {10 if quick else 50} times each", 15 if quick else 45),
        Phase("calendar arithmetic", 5 if quick else 15),
        Phase("sealing personal data", 2 if quick else 8),
        Phase("the deadline tick with open timers", 15 if quick else 60),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rates", default="50,100,200,500")
    parser.add_argument(
        "--sustain-rate", type=float, default=100, help="near what the machine sustains, so the run measures steady state"
    )
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    step_seconds, sustain_seconds = (5, 10) if args.quick else (20, 60)

    results: dict[str, Any] = {"machine": machine(), "command": COMMAND + (" (--quick)" if args.quick else "")}
    results["previous"] = previous_run(REPO / "bench" / "results.json")
    stack = Stack(PROFILES["bench"])
    system: BenchSystem | None = None
    progress = Progress(plan(args.quick, rates, args.sustain_rate, step_seconds, sustain_seconds))
    try:
        with progress.next_phase():
            stack.up()
        with progress.next_phase():
            results["postgres_insert"] = pgbench_insert_tps(stack, runs=1 if args.quick else 3, seconds=5 if args.quick else 10)
        with progress.next_phase():
            results["kafka_producer"] = kafka_producer_throughput(
                stack, runs=1 if args.quick else 3, records=50_000 if args.quick else 300_000
            )

        with progress.next_phase():
            system = start_system(stack, "bench")
        intake, database_url, units = system.intake, system.database_url, system.units
        with progress.next_phase():  # connections, caches, consumer groups
            asyncio.run(run_rate(intake, system.token(), database_url, 20, 3, units))
        results["fixed_rates"] = []
        for rate in rates:
            with progress.next_phase():
                results["fixed_rates"].append(
                    asyncio.run(run_rate(intake, system.token(), database_url, rate, step_seconds, units))
                )
        with progress.next_phase():
            meter = CpuMeter(stack, system.services)
            meter.begin()
            loadgen_start = time.process_time()
            results["sustained"] = asyncio.run(
                run_rate(intake, system.token(), database_url, args.sustain_rate, sustain_seconds, units)
            )
            noticed = results["sustained"]["intake_to_notice"]["noticed"]
            results["cpu_ms_per_dossier"] = {
                **meter.per_dossier_ms(noticed),
                "load generator": round((time.process_time() - loadgen_start) * 1000 / max(noticed, 1), 2),
            }
        with progress.next_phase():
            results["console"] = console_pages(stack, system, runs=10 if args.quick else 50)
            system.stop()
        with progress.next_phase():
            results["calendar"] = run_script(
                REPO / "bench" / "calendar_bench.py", *(["--n", "20000", "--runs", "3"] if args.quick else [])
            )
        with progress.next_phase():
            results["sealing"] = run_script(
                REPO / "bench" / "sealing_bench.py", *(["--n", "10000", "--runs", "3"] if args.quick else [])
            )
        with progress.next_phase():
            results["deadline_tick"] = run_script(
                REPO / "bench" / "deadline_tick_bench.py", *(["--timers", "100000", "--runs", "3"] if args.quick else [])
            )
    finally:
        if system is not None:
            system.stop()
        stack.down()

    (REPO / "bench" / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")
    from bench.report import write_report

    write_report(results, REPO / "BENCHMARKS.md")
    print(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
