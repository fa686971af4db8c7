"""Faults on the cluster: N dossiers through the whole flow, two replicas of each service on a
three-broker Kafka cluster, while one replica of each service is SIGKILLed several times, the
replica holding each relay is frozen (SIGSTOP) past its lease and woken, the broker leading the
most partitions is SIGKILLed, then every broker, and PostgreSQL once. Afterwards every dossier is
where its script says, each notice went out exactly once, no outbox row is left unsent and nothing
is dead-lettered; it prints how long each relay was without a leader.

`make test` runs a short form (CHAOS_DOSSIERS, default 150); `make chaos` the full 10,000."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from conftest import Identities, kafka_options, own_database, owner_url
from infra.processes import SERVICES
from infra.stack import REPO, Kafka, Stack
from services.db import asyncpg_dsn
from services.events.topics import dead_letter_topic
from services.migrations import upgrade
from tests.chaos import AGENCIES, Run, Script, chaos_plan
from tests.conftest import System, eventually

DOSSIERS = int(os.environ.get("CHAOS_DOSSIERS", "150"))
# Dossiers are filed at about CHAOS_RATE a second, and the faults spread along the filing, at least
# CHAOS_GAP_SECONDS apart, so every fault hits dossiers in flight.
GAP_SECONDS = float(os.environ.get("CHAOS_GAP_SECONDS", "4"))
RATE = float(os.environ.get("CHAOS_RATE", "20"))
SETTLE_SECONDS = 120 + DOSSIERS * 0.3
SCHEMAS = ("intake", "routing", "deadline", "notify")
REPLICAS = 2  # of each service


@pytest.fixture(scope="module")
def cluster(stack: Stack) -> Iterator[Kafka]:
    """Three Kafka nodes of the test profile (ports and data of their own, beside the single node)."""
    kafka = Kafka(stack.profile.cluster(3))
    started = kafka.up()
    yield kafka
    if started and os.environ.get("MOTCUA_KEEP_STACK") != "1":
        kafka.down()


@pytest.fixture(scope="module")
def chaos_env(stack: Stack, cluster: Kafka, apply_env: dict[str, str], session_id: str) -> Iterator[dict[str, str]]:
    """A database of its own, every service's migrations applied (in this process, which has the
    session's environment and so each service's key ring), and the cluster: each topic on three
    brokers, a write acknowledged once two have it."""
    with own_database(stack, f"motcua_t_{session_id}_chaos") as url:
        env = {**apply_env, "DATABASE_URL": url, **cluster.profile.kafka_env()}
        for name in SERVICES:
            upgrade(REPO / f"{name}-service" / "migrations", owner_url(env, name))
        cluster.provision(env["TOPIC_PREFIX"])
        yield env


@pytest.fixture(scope="module")
def chaos_system(chaos_env: dict[str, str], identities: Identities, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    folder = tmp_path_factory.mktemp("chaos")
    agencies = folder / "agencies.json"
    agencies.write_text(json.dumps({"agencies": AGENCIES}), encoding="utf-8")
    env = {
        **chaos_env,
        "ROUTING_AGENCIES_FILE": str(agencies),
        "NOTIFY_QUIET_HOURS": "",
        # The sink stands in for the gateways: their per-second quotas would only make the run longer.
        "NOTIFY_SMS_RATE_PER_SECOND": "500",
        "NOTIFY_SMTP_RATE_PER_SECOND": "500",
        "INTAKE_LOOKUP_RATE_LIMIT": "100000",
    }
    system = System(env, folder / "logs", identities)
    try:
        for name in SERVICES:
            for _replica in range(REPLICAS):
                system.start(name)
        yield system
    finally:
        system.stop_all()


def dead_letters(system: System) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for name in SERVICES:
        answer = httpx.get(f"{system.url(name)}/admin/dead-letters", headers=system.headers("operator"), timeout=10)
        assert answer.status_code == 200, answer.text
        found[name] = {d["id"] for d in answer.json()}
    return found


def dead_letter_topic_size(system: System) -> int:
    async def size() -> int:
        topic = dead_letter_topic(system.env["TOPIC_PREFIX"])
        consumer = AIOKafkaConsumer(**kafka_options(system.env), enable_auto_commit=False)
        await consumer.start()
        try:
            await consumer._client.force_metadata_update()  # noqa: SLF001 - the topic may be new to this client
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
            if not partitions:
                return 0
            begin, end = await consumer.beginning_offsets(partitions), await consumer.end_offsets(partitions)
            return sum(end[tp] - begin[tp] for tp in partitions)
        finally:
            await consumer.stop()

    return asyncio.run(size())


def unsent_outbox_rows(stack: Stack, database: str) -> dict[str, int]:
    return {
        schema: int(stack.postgres.psql(f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL", database=database))
        for schema in SCHEMAS
    }


def parked_events_left(database_url: str, dossier_ids: list[str]) -> dict[str, int]:
    """Events still waiting for one of these dossiers (ten thousand ids do not fit on a command line)."""

    async def count() -> dict[str, int]:
        conn = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            return {
                schema: await conn.fetchval(
                    f"SELECT count(*) FROM {schema}.parked_events WHERE dossier_id = ANY($1::uuid[])", dossier_ids
                )
                for schema in ("deadline", "notify")
            }
        finally:
            await conn.close()

    return asyncio.run(count())


def test_dossiers_survive_killed_services_a_broker_restart_and_a_database_restart(
    chaos_system: System, stack: Stack, cluster: Kafka
) -> None:
    system = chaos_system
    database_url = system.env["DATABASE_URL"]
    database = database_url.rsplit("/", 1)[1]
    dead_before = dead_letters(system)
    topic_before = dead_letter_topic_size(system)
    plan = chaos_plan()
    run = Run(system, stack, cluster, database_url.rsplit("/", 1)[1], DOSSIERS)
    started = time.monotonic()

    filing_seconds = max(GAP_SECONDS * len(plan), DOSSIERS / RATE)
    actors = [threading.Thread(target=run.guard("citizens", lambda: run.submit_all(filing_seconds)), daemon=True)]
    actors += [
        threading.Thread(target=run.guard(a["client_id"], lambda a=a: run.agency(a["client_id"])), daemon=True) for a in AGENCIES
    ]
    actors += [threading.Thread(target=run.guard("counter", run.counter), daemon=True)]
    monkey = threading.Thread(target=run.guard("chaos", lambda: run.chaos(plan, GAP_SECONDS)), daemon=True)
    actors += [threading.Thread(target=run.guard("progress", lambda: run.report_progress(len(plan))), daemon=True)]
    for thread in [*actors, monkey]:
        thread.start()
    try:
        monkey.join()
        assert not run.errors, "\n".join(run.errors)
        assert run.submitted.wait(timeout=SETTLE_SECONDS), f"only {run.stats['submitted']} of {DOSSIERS} dossiers filed"
        eventually(
            lambda: run.errors or run.finished() == DOSSIERS or None,
            timeout=SETTLE_SECONDS,
            what="every dossier at its final status",
        )
        assert not run.errors, "\n".join(run.errors)
    finally:
        run.stop.set()
        for thread in actors:
            thread.join(timeout=30)
    flow_seconds = time.monotonic() - started

    # Every dossier filed once, and where its script says: intake's status and routing's agree.
    scripts = dict(run.scripts)
    assert len(scripts) == DOSSIERS, "a retried POST with the same Idempotency-Key made a second dossier, or one was lost"
    codes: Counter[str] = Counter()
    for dossier_id, script in scripts.items():
        dossier = system.get("intake", f"/dossiers/{dossier_id}")
        route = system.get("routing", f"/dossiers/{dossier_id}/route")
        assert dossier["status"] == script.final_status, (script.name, dossier_id, dossier["status"])
        assert route["national_status"] == script.final_status, (script.name, dossier_id, route["national_status"])
        assert all(s["state"] == "done" for s in route["steps"]), (script.name, route["steps"])
        codes[dossier["code"]] += 1
    assert max(codes.values()) == 1, "two dossiers share a code"

    # The deadline service closed every dossier's clock, each pause (supplement, fee) resumed by the
    # citizen's answer before the result was ready, not left open until then.
    def clock_as_scripted(script: Script, clock: dict[str, Any]) -> bool:
        pauses = clock.get("pauses") or []
        expected = {5} if script.supplement_step else set()
        expected |= {6} if script.fee_step else set()
        return (
            clock.get("state") == "resolved"
            and sorted(p["status"] for p in pauses) == sorted(expected)
            and all(
                p["resumed_at"] and datetime.fromisoformat(p["resumed_at"]) < datetime.fromisoformat(clock["ended_at"])
                for p in pauses
            )
        )

    unresolved: dict[str, Any] = {}

    def clocks_closed() -> Counter[str] | None:
        clocks = {d: system.get("deadline", f"/dossiers/{d}/clock") or {} for d in scripts}
        unresolved.clear()
        unresolved.update(
            {
                d: (scripts[d].name, c.get("state"), c.get("pauses"))
                for d, c in clocks.items()
                if not clock_as_scripted(scripts[d], c)
            }
        )
        return (
            Counter((s.name, c.get("state")) for s, c in ((scripts[d], c) for d, c in clocks.items())) if not unresolved else None
        )

    try:
        clocks = eventually(clocks_closed, timeout=SETTLE_SECONDS, what="every dossier's clock resolved")
    except AssertionError:
        raise AssertionError(f"{len(unresolved)} clocks not resolved, e.g. {list(unresolved.items())[:4]}") from None

    # Exactly one notice per (dossier, trigger event, channel), each sent, each delivered to the sink once.
    def notices_complete() -> dict[str, list[dict[str, Any]]] | None:
        found: dict[str, list[dict[str, Any]]] = {}
        for dossier_id, script in scripts.items():
            notices = system.get("notify", f"/dossiers/{dossier_id}/notices") or []
            citizen = {(n["trigger"], n["channel"]) for n in notices if n["trigger"] in script.triggers()}
            if citizen != {(t, c) for t in script.triggers() for c in script.channels} or any(
                n["status"] not in ("sent", "delivered", "skipped") for n in notices
            ):
                return None
            found[dossier_id] = notices
        return found

    try:
        log = eventually(notices_complete, timeout=SETTLE_SECONDS, what="every notice sent")
    except AssertionError:
        missing = []
        for dossier_id, script in scripts.items():
            notices = system.get("notify", f"/dossiers/{dossier_id}/notices") or []
            have = {(n["trigger"], n["channel"], n["status"]) for n in notices}
            want = {(t, c) for t in script.triggers() for c in script.channels}
            if {(t, c) for t, c, s in have if s in ("sent", "delivered")} != want:
                missing.append((script.name, dossier_id, sorted(have)))
        raise AssertionError(f"{len(missing)} dossiers lack notices, e.g. {missing[:5]}") from None
    per_key = Counter((d, n["trigger"], n["channel"], n["recipient_masked"]) for d, notices in log.items() for n in notices)
    twice = [k for k, v in per_key.items() if v > 1]
    assert not twice, f"notices made twice: {twice[:5]}"
    sent = {
        n["id"]: (d, n["trigger"], n["channel"], n["recipient_masked"])
        for d, notices in log.items()
        for n in notices
        if n["status"] in ("sent", "delivered")
    }
    # The sink records every delivery it is handed (as a gateway without idempotency would): what
    # reached the citizen is counted there, per (dossier, trigger, channel, recipient).
    lines = [
        json.loads(line) for line in Path(system.env["NOTIFY_SINK_PATH"]).read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    ours = [line for line in lines if line["dossier_id"] in scripts]
    in_sink = Counter((line["dossier_id"], line["trigger"], line["channel"], line["to"]) for line in ours)
    not_once = {k: in_sink[k] for k in set(sent.values()) | set(in_sink) if in_sink[k] != 1}
    assert not not_once, f"sink lines per (dossier, trigger, channel, recipient) other than one: {list(not_once.items())[:5]}"
    scripted = {(d, t, c) for d, script in scripts.items() for t in script.triggers() for c in script.channels}
    missing = scripted - {(d, t, c) for d, t, c, _ in in_sink}
    assert not missing, f"scripted notices that never reached the sink: {sorted(missing)[:5]}"
    unmarked = {line["notice_id"] for line in ours} - set(sent)
    assert not unmarked, f"notices in the sink that notify did not mark sent: {sorted(unmarked)[:5]}"
    assert set(in_sink) == set(sent.values()), "the sink and the delivery log disagree"

    # No outbox row left unsent in any schema; nothing dead-lettered.
    def drained() -> dict[str, int] | None:
        rows = unsent_outbox_rows(stack, database)
        return None if any(rows.values()) else rows

    unsent = eventually(drained, timeout=60, what="every outbox drained")
    parked = parked_events_left(database_url, list(scripts))
    assert not any(parked.values()), f"events still waiting for a dossier that is done: {parked}"
    dead_after = dead_letters(system)
    new_dead = {name: sorted(dead_after[name] - dead_before[name]) for name in SERVICES}
    topic_after = dead_letter_topic_size(system)

    by_script = Counter(s.name for s in scripts.values())
    triggers = Counter(n["trigger"] for notices in log.values() for n in notices)
    print(
        f"\n[chaos] {DOSSIERS} dossiers in {flow_seconds:.0f}s through {len(plan)} faults: {run.chaos_log}"
        f"\n[chaos] scripts {dict(by_script)}"
        f"\n[chaos] final statuses {dict(Counter(s.final_status for s in scripts.values()))}; clocks {dict(clocks)}"
        f"\n[chaos] notices {sum(per_key.values())} ({dict(triggers)}), sink lines {len(ours)}"
        f"\n[chaos] unsent outbox rows {unsent}; parked events left {parked}; new dead letters {new_dead}; dead-letter topic {topic_before}→{topic_after}"
        f"\n[chaos] actors {dict(sorted(run.stats.items()))}",
        flush=True,
    )
    print(f"[chaos] relays without a leader while their holder was frozen: {run.relay_gaps}", flush=True)
    assert not any(new_dead.values()), f"dead-lettered during the run: {new_dead}"
    assert topic_after == topic_before, f"{topic_after - topic_before} messages on the dead-letter topic"
