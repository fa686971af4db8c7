"""The one-shot jobs of docker-compose.yml, run from the `ops` image (the Dockerfile's `ops` target):

    python -m infra.deploy tls --dir /tls --host kafka --broker-owner 1000
        the brokers' CA and certificate (`infra.pki`), made once into a shared volume: `ca.pem` for
        every client, `broker.pem` (key and certificate) readable by the broker's user only
    python -m infra.deploy kafka
        the deployment's topics and every service's ACLs on them (`services.kafka_acls.provision`),
        as the operator's login given by KAFKA_* (KafkaAccess); waits for the broker to answer

Both can run again: what exists is kept."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from infra.pki import LocalCA
from services.kafka import TopicShape
from services.kafka_acls import provision
from services.settings import KafkaAccess

BROKER_KEYSTORE = "broker.pem"


def make_tls(folder: Path, hosts: Sequence[str], broker_owner: int | None) -> Path:
    """The CA (its key readable by whoever runs this only) and the brokers' keystore for `hosts`."""
    ca = LocalCA(folder).ensure()
    keystore = ca.issue("broker", folder / BROKER_KEYSTORE, hosts=hosts)
    ca.cert_file.chmod(0o644)  # every service checks the brokers against it
    if broker_owner is not None:  # the broker's image runs as a user of its own
        os.chown(keystore, broker_owner, broker_owner)
    return keystore


def topic_shape_from_env() -> TopicShape:
    """Partitions, copies and acknowledging copies of each topic, as the services' settings name them."""
    return TopicShape(
        int(os.environ.get("TOPIC_PARTITIONS", "6")),
        int(os.environ.get("TOPIC_REPLICATION_FACTOR", "1")),
        int(os.environ.get("TOPIC_MIN_INSYNC_REPLICAS", "1")),
    )


def provision_kafka(wait_seconds: float) -> None:
    operator = KafkaAccess()
    prefix = os.environ.get("TOPIC_PREFIX", "motcua")
    shape = topic_shape_from_env()
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            asyncio.run(provision(operator, prefix, shape))
            break
        except Exception as exc:  # the broker still starting, or a passing fault
            if time.monotonic() > deadline:
                raise
            print(f"[deploy] Kafka not ready yet ({type(exc).__name__}: {exc}); retrying", file=sys.stderr, flush=True)
            time.sleep(2)
    print(f"[deploy] topics and ACLs of prefix {prefix!r} provisioned", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description="docker-compose.yml's one-shot jobs")
    sub = parser.add_subparsers(dest="command", required=True)
    tls = sub.add_parser("tls", help="make the CA and the brokers' certificate (kept when they exist)")
    tls.add_argument("--dir", type=Path, required=True, help="where: ca.pem, ca-key.pem, broker.pem")
    tls.add_argument("--host", action="append", default=[], help="a name the brokers are reached by (repeatable)")
    tls.add_argument("--broker-owner", type=int, help="uid (and gid) that gets broker.pem: the broker image's user")
    kafka = sub.add_parser("kafka", help="create the topics and ACLs, as the operator's login (KAFKA_* variables)")
    kafka.add_argument("--wait", type=float, default=120, help="seconds to keep trying while the broker does not answer")
    args = parser.parse_args(argv)
    if args.command == "tls":
        keystore = make_tls(args.dir, args.host, args.broker_owner)
        print(f"[deploy] CA {args.dir / 'ca.pem'}, brokers' keystore {keystore}", file=sys.stderr)
    else:
        provision_kafka(args.wait)
    return 0


if __name__ == "__main__":
    sys.exit(main())
