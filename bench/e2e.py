"""End-to-end load: dossiers POSTed to intake at a fixed offered rate (open loop: requests leave
on schedule whether or not earlier ones finished, so a slow system cannot slow the load down),
until the notice is handed to its channel by notify.

Intake latency is measured from the scheduled send time to the response. Intake→notice latency
is notify's `sent_at` minus intake's `received_at` for the same dossier, read from the database
after the run (the benchmark, unlike the services, may read every schema)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from bench.loadgen import Pool, Unanswered, post_request
from services.db import asyncpg_dsn

BODY = {
    "procedure_code": "1.001193",
    "channel": 2,
    "documents": [{"code": "birth-certificate"}, {"code": "interlinked-form"}],
    "applicant": {"name": "Nguyễn Văn Bench", "citizen_id": "079190001234", "phone": "0912345678", "notify_channels": ["sms"]},
}


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


def summary_ms(values: list[float]) -> dict[str, float | None]:
    return {f"p{p}": (round(v * 1000, 1) if (v := percentile(values, p)) is not None else None) for p in (50, 95, 99)}


@dataclass
class LoadResult:
    rate: float
    seconds: float
    sent: int = 0
    accepted: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    dossier_ids: list[str] = field(default_factory=list)


async def offer(
    url: str, token: str, rate: float, seconds: float, units: list[str] | None = None, connections: int = 256
) -> LoadResult:
    """Offer `rate` receipts a second for `seconds`, as the officer whose access token is given (one
    token for the run: runs are shorter than its five minutes)."""
    result = LoadResult(rate, seconds)
    pool = Pool(url, connections)
    requests = [
        post_request(pool.authority, "/dossiers", {**BODY, "receiving_unit": unit} if unit else BODY, token)
        for unit in units or [None]
    ]

    async def one(scheduled: float, request: bytes) -> None:
        try:
            status, body = await pool.post(request)
        except Unanswered:
            result.errors += 1
            return
        result.latencies.append(time.perf_counter() - scheduled)
        if status == 201:
            result.accepted += 1
            result.dossier_ids.append(json.loads(body)["id"])
        else:
            result.refused[status] = result.refused.get(status, 0) + 1

    tasks = []
    start = time.perf_counter()
    total = int(rate * seconds)
    try:
        for i in range(total):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled, requests[i % len(requests)])))
            result.sent += 1
        await asyncio.gather(*tasks)
    finally:
        pool.close()
    return result


async def notice_latencies(database_url: str, dossier_ids: list[str], timeout: float = 300) -> dict[str, Any]:
    """Wait until every accepted dossier's notice was handed over, then measure."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        deadline = time.monotonic() + timeout
        ids = list(dossier_ids)
        while True:
            done = await conn.fetchval(
                "SELECT count(DISTINCT dossier_id) FROM notify.notices WHERE status = 'sent' AND dossier_id = ANY($1::uuid[])",
                ids,
            )
            if done >= len(ids) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        rows = await conn.fetch(
            """SELECT extract(epoch FROM (n.sent_at - d.received_at)) AS lag, n.sent_at, d.received_at
               FROM notify.notices n JOIN intake.dossiers d ON d.id = n.dossier_id
               WHERE n.status = 'sent' AND n.dossier_id = ANY($1::uuid[])""",
            ids,
        )
    finally:
        await conn.close()
    lags = [float(r["lag"]) for r in rows]
    span = (max(r["sent_at"] for r in rows) - min(r["received_at"] for r in rows)).total_seconds() if rows else 0
    return {
        "noticed": len(rows),
        "of": len(ids),
        "latency_ms": summary_ms(lags),
        "first_receipt_to_last_notice_s": round(span, 1),
        "end_to_end_per_s": round(len(rows) / span, 1) if span else None,
    }


def describe(result: LoadResult) -> dict[str, Any]:
    return {
        "offered_per_s": result.rate,
        "seconds": result.seconds,
        "sent": result.sent,
        "accepted": result.accepted,
        "refused": result.refused,
        "errors": result.errors,
        "achieved_intake_per_s": round(result.accepted / result.seconds, 1),
        "intake_latency_ms": summary_ms(result.latencies),
    }


async def run_rate(
    intake_url: str, token: str, database_url: str, rate: float, seconds: float, units: list[str] | None = None
) -> dict[str, Any]:
    result = await offer(intake_url, token, rate, seconds, units)
    figures = describe(result)
    figures["intake_to_notice"] = await notice_latencies(database_url, result.dossier_ids)
    return figures
