"""The machine's own limits, measured in the same run as our figures so ratios mean something:
PostgreSQL single-row insert TPS (pgbench) and Kafka producer throughput (the broker's own
ProducerPerformance tool, acks=all, records the size of our events)."""

from __future__ import annotations

import re
import statistics
import subprocess
import tempfile
from pathlib import Path

from infra.stack import KAFKA_DIR, KAFKA_LIB, Postgres, Stack


def pgbench_insert_tps(stack: Stack, runs: int = 3, seconds: int = 10, clients: int = 8) -> dict[str, object]:
    """Single-row INSERTs, each its own transaction (what one dossier's commit costs at minimum)."""
    stack.postgres.psql(
        "DROP TABLE IF EXISTS bench_insert; CREATE TABLE bench_insert (id bigserial PRIMARY KEY, payload jsonb NOT NULL, at timestamptz DEFAULT now())",
        database="motcua",
    )
    script = Path(tempfile.mkstemp(suffix=".sql")[1])
    script.write_text(
        """INSERT INTO bench_insert (payload) VALUES ('{"dossier": "000.00.00.H30-261122-0001", "status": 2}');\n"""
    )
    pgbench = Postgres.bindir() / "pgbench"
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [
                str(pgbench),
                "-h",
                "127.0.0.1",
                "-p",
                str(stack.profile.pg_port),
                "-U",
                "motcua",
                "-n",
                "-f",
                str(script),
                "-c",
                str(clients),
                "-j",
                "2",
                "-T",
                str(seconds),
                "motcua",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        match = re.search(r"tps = ([\d.]+)", out)
        assert match, out.stdout
        results.append(float(match.group(1)))
    script.unlink()
    stack.postgres.psql("DROP TABLE bench_insert", database="motcua")
    return {"tps_median": statistics.median(results), "runs": results, "clients": clients, "seconds_per_run": seconds}


def kafka_producer_throughput(stack: Stack, runs: int = 3, records: int = 300_000, record_size: int = 1024) -> dict[str, object]:
    import asyncio

    from services.kafka import TopicShape, create_topics

    access = stack.profile.kafka_access()
    topics = [f"bench-perf-{i}" for i in range(runs)]
    asyncio.run(create_topics(access, topics, TopicShape(6, 1, 1)))
    assert access.kafka_sasl_password is not None
    # The same TLS and SCRAM login as the services' clients, in a file only we can read (not on the command line).
    config = Path(tempfile.mkdtemp()) / "producer.properties"
    config.touch(mode=0o600)
    config.write_text(
        "security.protocol=SASL_SSL\n"
        "sasl.mechanism=SCRAM-SHA-512\n"
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{access.kafka_sasl_username}" password="{access.kafka_sasl_password.get_secret_value()}";\n'
        "ssl.truststore.type=PEM\n"
        f"ssl.truststore.location={access.kafka_ca_file}\n"
    )
    results = []
    for i in range(runs):
        out = subprocess.run(
            [
                "java",
                "-Xmx512m",
                f"-Dlog4j.configuration=file:{KAFKA_DIR / 'log4j.properties'}",
                "-cp",
                f"{KAFKA_LIB}/*",
                "org.apache.kafka.tools.ProducerPerformance",
                "--topic",
                f"bench-perf-{i}",
                "--num-records",
                str(records),
                "--record-size",
                str(record_size),
                "--throughput",
                "-1",
                "--producer-props",
                f"bootstrap.servers={stack.profile.kafka_bootstrap}",
                "acks=all",
                "enable.idempotence=true",
                "linger.ms=5",
                "--producer.config",
                str(config),
            ],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:  # its own output says why; its command line is not repeated
            raise RuntimeError(f"ProducerPerformance exited with {out.returncode}: {(out.stdout + out.stderr)[-2000:]}")
        summary = [line for line in out.stdout.splitlines() if "records sent" in line][-1]
        match = re.search(r"([\d.]+) records/sec", summary)
        assert match, out.stdout
        results.append(float(match.group(1)))
    return {
        "records_per_s_median": statistics.median(results),
        "runs": results,
        "record_size": record_size,
        "records_per_run": records,
    }
