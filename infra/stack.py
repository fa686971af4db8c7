"""Start and stop the real infrastructure on this machine: PostgreSQL, Apache Kafka (one KRaft node,
or a cluster of three on loopback) and the Keycloak identity provider.

No Docker engine exists on the machines this project runs on, so the stack is three local
processes whose data lives under `.run/<profile>/` (PostgreSQL's in `~postgres/motcua/` when the
`postgres` user cannot enter this checkout; Keycloak's in a database of its own), which survives
restarts:

    python -m infra.stack up   [--profile dev|test] [--brokers 3]   start (or reuse) all three, print their addresses
    python -m infra.stack down [--profile dev|test] [--brokers 3]   stop what `up` started
    python -m infra.stack status

A PostgreSQL server given by DATABASE_URL is used as it is instead of starting one.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from infra.pki import LocalCA

if TYPE_CHECKING:
    from services.settings import KafkaAccess

REPO = Path(__file__).resolve().parent.parent
KAFKA_DIR = REPO / "infra" / "kafka"
KAFKA_LIB = KAFKA_DIR / "lib"
KAFKA_CLUSTER_ID = "bW90Y3VhLWthZmthLTAwMQ"  # any 22-char base64 UUID; fixed so re-formatting is never needed
KEYCLOAK_DIR = REPO / "infra" / "keycloak"
REALM = "motcua"
# One database login per service, owning its schema and nothing else; Keycloak has its own too.
# With LOGIN_PER_SERVICE=1 in its environment a service process connects as its own login
# (`infra.processes`); a server given by DATABASE_URL is used with the login it names.
LOGIN_PER_SERVICE = "DATABASE_LOGIN_PER_SERVICE"
# Read once, when this module is first imported: tests later set DATABASE_URL for the services themselves.
GIVEN_DATABASE = "DATABASE_URL" in os.environ
SERVICE_LOGINS = ("intake", "routing", "deadline", "notify")
KEYCLOAK_LOGIN = "keycloak"
# Kafka's logins (SCRAM-SHA-512): one per service, and the operator's, a super user that provisions
# topics and ACLs and that the tests and tools use. Their passwords are made once per profile and
# kept in `.run/<profile>/kafka-logins.json`; a service process is given its own
# (`infra.processes`, from KAFKA_LOGINS_FILE).
KAFKA_OPERATOR = "operator"
KAFKA_LOGINS_FILE = "KAFKA_LOGINS_FILE"


def login_url(database_url: str, login: str) -> str:
    """The same database reached as `login`, with the password in `<LOGIN>_DB_PASSWORD` when one is set
    (this machine's own server trusts loopback logins)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url).set(username=login, password=os.environ.get(f"{login.upper()}_DB_PASSWORD"))
    return url.render_as_string(hide_password=False)


@dataclass(frozen=True)
class Profile:
    name: str
    pg_port: int
    kafka_port: int
    kafka_controller_port: int
    keycloak_port: int
    kafka_brokers: int = 1  # 3: a cluster, each topic on 3 brokers and a write acknowledged by 2

    @property
    def root(self) -> Path:
        return REPO / ".run" / self.name

    @property
    def database_url(self) -> str:
        return os.environ.get("DATABASE_URL") or f"postgresql+asyncpg://motcua@127.0.0.1:{self.pg_port}/motcua"

    def kafka_ports(self, index: int) -> tuple[int, int, int]:
        """A node's client, inter-broker and controller ports; a cluster's sit apart from the single node's."""
        step = 0 if self.kafka_brokers == 1 else 10 * (index + 1)
        return self.kafka_port + step, self.kafka_port + step + 5, self.kafka_controller_port + step

    def cluster(self, brokers: int = 3) -> Profile:
        return replace(self, kafka_brokers=brokers)

    @property
    def min_insync_replicas(self) -> int:
        return 2 if self.kafka_brokers >= 3 else 1

    @property
    def kafka_bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{self.kafka_ports(i)[0]}" for i in range(self.kafka_brokers))

    @property
    def tls_dir(self) -> Path:
        return self.root / "tls"

    @property
    def kafka_logins_file(self) -> Path:
        return self.root / "kafka-logins.json"

    def kafka_logins(self) -> dict[str, str]:
        """Every Kafka login and its password: made once per profile, kept so a restart changes nothing."""
        path = self.kafka_logins_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(json.dumps({login: secrets.token_hex(16) for login in (*SERVICE_LOGINS, KAFKA_OPERATOR)}))
        return json.loads(path.read_text())

    def kafka_env(self) -> dict[str, str]:
        """How the operator's tools reach this profile's Kafka (TLS, the operator's login), and how
        topics are made on it; service processes swap in their own login."""
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_CA_FILE": str(self.tls_dir / "ca.pem"),
            "KAFKA_SASL_USERNAME": KAFKA_OPERATOR,
            "KAFKA_SASL_PASSWORD": self.kafka_logins()[KAFKA_OPERATOR],
            KAFKA_LOGINS_FILE: str(self.kafka_logins_file),
        }
        if self.kafka_brokers > 1:
            env |= {
                "TOPIC_REPLICATION_FACTOR": str(min(3, self.kafka_brokers)),
                "TOPIC_MIN_INSYNC_REPLICAS": str(self.min_insync_replicas),
            }
        return env

    def kafka_access(self) -> KafkaAccess:
        from services.settings import KafkaAccess

        return KafkaAccess(**self.kafka_env())

    @property
    def keycloak_url(self) -> str:
        return f"http://127.0.0.1:{self.keycloak_port}"

    @property
    def issuer(self) -> str:
        return f"{self.keycloak_url}/realms/{REALM}"

    def web_session_key(self) -> str:
        """The key sealing the web console's session cookies: made once per profile, kept so a restart signs no one out."""
        path = self.root / "web-session-key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        return path.read_text().strip()

    @property
    def keyrings_file(self) -> Path:
        return self.root / "personal-data-keys.json"

    def personal_data_env(self) -> dict[str, str]:
        """Where this profile's personal-data key rings are (`services.personal_data.rings`): made
        once, kept so a restart opens what was sealed; each service process is handed its own."""
        from services.personal_data.rings import KEYRINGS_FILE, make_keyrings

        make_keyrings(self.keyrings_file, SERVICE_LOGINS)
        return {KEYRINGS_FILE: str(self.keyrings_file)}

    def env(self) -> dict[str, str]:
        env = {"DATABASE_URL": self.database_url, **self.kafka_env(), **self.personal_data_env(), "OIDC_ISSUER": self.issuer}
        if not GIVEN_DATABASE:  # this machine's own server has a login per service
            env[LOGIN_PER_SERVICE] = "1"
        return env


# Every port sits below Linux's ephemeral range (32768–60999): a client that keeps reconnecting
# to a stopped broker on an ephemeral port can end up connected to itself on that very port, and
# the restarted broker then cannot bind it.
# MOTCUA_PORT_OFFSET moves the test profile's ports (and data folder), so that several checkouts
# on one machine can each run their own test infrastructure.
_OFFSET = int(os.environ.get("MOTCUA_PORT_OFFSET", "0"))
PROFILES = {
    "dev": Profile("dev", pg_port=25432, kafka_port=29092, kafka_controller_port=29093, keycloak_port=28080),
    "test": Profile(
        "test" if _OFFSET == 0 else f"test-{_OFFSET}",
        pg_port=26432 + _OFFSET,
        kafka_port=21092 + _OFFSET,
        kafka_controller_port=21093 + _OFFSET,
        keycloak_port=22080 + _OFFSET,
    ),
    "bench": Profile("bench", pg_port=27432, kafka_port=23092, kafka_controller_port=23093, keycloak_port=24080),
}


def log(message: str) -> None:
    print(f"[stack] {message}", file=sys.stderr, flush=True)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wait_until(
    predicate: Callable[[], bool],
    timeout: float,
    what: str,
    *,
    progress: Callable[[str], None] | None = None,
    every: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Poll until `predicate` holds; a wait longer than `every` seconds says so, once each `every`
    seconds ("waiting for Keycloak to serve the realm (20 s)…"), so someone watching sees it is alive."""
    report = log if progress is None else progress
    start = clock()
    deadline = start + timeout
    next_report = start + every
    while clock() < deadline:
        if predicate():
            return
        now = clock()
        if now >= next_report:
            report(f"waiting for {what} ({now - start:.0f} s of at most {timeout:.0f} s)…")
            next_report += every
        sleep(0.2)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


def _pid_alive(pid: int) -> bool:
    """True while the process runs; a zombie counts as gone (and is reaped when it is our child)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _recorded_pid(pidfile: Path) -> int | None:
    """The pid a start wrote down, while that process runs."""
    if not pidfile.exists():
        return None
    pid = int(pidfile.read_text())
    return pid if _pid_alive(pid) else None


def _stop(pid: int, timeout: float, kill: Callable[[int, int], None]) -> None:
    """SIGTERM, and SIGKILL if it is still there after `timeout` seconds."""
    kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _pid_alive(pid):
        kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------- PostgreSQL


def reachable_by_postgres(path: Path) -> bool:
    """Whether the `postgres` user can get to `path` (every existing folder above it searchable)."""
    owner = pwd.getpwnam("postgres").pw_uid
    for folder in [path, *path.parents]:
        if folder.exists():
            info = folder.stat()
            if not (info.st_mode & stat.S_IXOTH or info.st_uid == owner):
                return False
    return True


class Postgres:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        root = profile.root
        if os.geteuid() == 0 and not reachable_by_postgres(root):
            # Run as root from a checkout postgres cannot enter (a `mktemp -d` folder is 0700): the
            # cluster lives in postgres's own home instead, one per checkout and profile.
            checkout = hashlib.sha256(str(REPO).encode()).hexdigest()[:12]
            root = Path(pwd.getpwnam("postgres").pw_dir) / "motcua" / checkout / profile.name
            root.mkdir(parents=True, exist_ok=True)
            for folder in (root, root.parent, root.parent.parent):
                shutil.chown(folder, "postgres", "postgres")
        self.data = root / "postgres"
        self.logfile = root / "postgres.log"

    @staticmethod
    def bindir() -> Path:
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
        if not candidates:
            raise RuntimeError("PostgreSQL server binaries not found: run `make install` (apt-get install postgresql)")
        return candidates[-1]

    def _as_owner(self, args: list[str]) -> list[str]:
        # PostgreSQL refuses to run as root; Debian's package creates the `postgres` user.
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *args]
        return args

    @property
    def external(self) -> bool:
        return "DATABASE_URL" in os.environ

    def running(self) -> bool:
        return port_open(self.profile.pg_port)

    def up(self) -> bool:
        """Start the server if needed; returns True when this call started it."""
        if self.external:
            log("using PostgreSQL from DATABASE_URL")
            return False
        started = False
        if not self.running():
            self._init()
            bindir = self.bindir()
            self.logfile.parent.mkdir(parents=True, exist_ok=True)
            self.logfile.touch()
            if os.geteuid() == 0:
                shutil.chown(self.logfile, "postgres")
            opts = (
                f"-p {self.profile.pg_port} -k {self.data} -c listen_addresses=127.0.0.1 "
                "-c max_connections=300 -c fsync=off -c full_page_writes=off -c shared_buffers=256MB "
                + os.environ.get("MOTCUA_PG_OPTIONS", "")  # e.g. pg_stat_statements for `python -m bench.profile`
            )
            log(f"starting PostgreSQL on 127.0.0.1:{self.profile.pg_port}")
            subprocess.run(
                self._as_owner(
                    [str(bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-o", opts, "-w", "-t", "60", "start"]
                ),
                check=True,
                stdout=subprocess.DEVNULL,
            )
            started = True
        wait_until(self.running, 60, "PostgreSQL")
        self.ensure_logins()
        self.create_database("motcua")
        return started

    def _init(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self.data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
        os.chmod(self.data, 0o700)
        log(f"initialising a PostgreSQL cluster in {self.data}")
        subprocess.run(
            self._as_owner(
                [
                    str(self.bindir() / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "motcua",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def psql(self, sql: str, database: str = "postgres") -> str:
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.profile.pg_port), "-U", "motcua", "-d", database, "-tAc", sql],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def ensure_database(self, name: str, owner: str = "motcua") -> None:
        if self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") != "1":
            self.psql(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        else:
            self.psql(f'ALTER DATABASE "{name}" OWNER TO "{owner}"')

    def ensure_logins(self) -> None:
        """The services' and Keycloak's logins: no superuser, no right to create roles or databases."""
        for login in (*SERVICE_LOGINS, KEYCLOAK_LOGIN):
            self.psql(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{login}') "
                f'THEN CREATE ROLE "{login}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE; END IF; END $$'
            )

    def create_database(self, name: str) -> None:
        """A database for the services (made if missing): each service's schema owned by its own login,
        closed to the others, and whatever an earlier start made there handed to that login."""
        self.ensure_database(name)
        self.psql("REVOKE CREATE ON SCHEMA public FROM PUBLIC", name)
        for login in SERVICE_LOGINS:
            self.psql(f'CREATE SCHEMA IF NOT EXISTS "{login}" AUTHORIZATION "{login}"', name)
            self.psql(f'ALTER SCHEMA "{login}" OWNER TO "{login}"', name)
            self.psql(f'REVOKE ALL ON SCHEMA "{login}" FROM PUBLIC', name)
            self.hand_over(name, login, login)

    def hand_over(self, database: str, schema: str, login: str) -> None:
        """Every table, sequence and view of `schema` owned by `login` (data made before the logins existed)."""
        self.psql(
            "DO $$ DECLARE r record; BEGIN "
            "FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = '{schema}' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') "
            f"AND pg_get_userbyid(c.relowner) <> '{login}' "
            "AND NOT (c.relkind = 'S' AND EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))) "
            "LOOP EXECUTE format('ALTER %s %I.%I OWNER TO %I', "
            "CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, "
            f"'{schema}', r.relname, '{login}'); END LOOP; END $$",
            database,
        )

    def down(self) -> None:
        if self.external or not (self.data / "postmaster.pid").exists():
            return
        log("stopping PostgreSQL")
        subprocess.run(
            self._as_owner([str(self.bindir() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would (used by fault tests)."""
        pidfile = self.data / "postmaster.pid"
        if pidfile.exists():
            os.kill(int(pidfile.read_text().split()[0]), signal.SIGKILL)


# ---------------------------------------------------------------- Kafka


class KafkaNode:
    """One KRaft node (broker and controller) of the profile's Kafka: one of one, or of a cluster."""

    def __init__(self, profile: Profile, index: int) -> None:
        self.profile = profile
        self.index = index
        self.node_id = index + 1
        self.port, self.broker_port, self.controller_port = profile.kafka_ports(index)
        self.dir = (
            profile.root / "kafka" if profile.kafka_brokers == 1 else profile.root / "kafka-cluster" / f"node-{self.node_id}"
        )
        self.data = self.dir / "data"
        self.pidfile = self.dir / "kafka.pid"
        self.logfile = self.dir / "kafka.log"
        self.config = self.dir / "server.properties"
        self.formatted = self.dir / "formatted-with-logins"
        self.process: subprocess.Popen[bytes] | None = None

    def pid(self) -> int | None:
        return _recorded_pid(self.pidfile)

    def listening(self) -> bool:
        return port_open(self.port)

    def _configure(self) -> None:
        profile = self.profile
        self.dir.mkdir(parents=True, exist_ok=True)
        ca = LocalCA(profile.tls_dir).ensure()
        keystore = ca.issue("broker", profile.tls_dir / "broker.pem")
        replication = min(3, profile.kafka_brokers)
        template = Template((KAFKA_DIR / "server.properties.in").read_text())
        self.config.write_text(
            template.substitute(
                node_id=self.node_id,
                voters=",".join(f"{i + 1}@127.0.0.1:{profile.kafka_ports(i)[2]}" for i in range(profile.kafka_brokers)),
                port=self.port,
                broker_port=self.broker_port,
                controller_port=self.controller_port,
                keystore=keystore,
                truststore=ca.cert_file,
                operator=KAFKA_OPERATOR,
                data_dir=self.data,
                replication=replication,
                min_insync=profile.min_insync_replicas,
            )
        )
        if (self.data / "meta.properties").exists() and not self.formatted.exists():
            # Formatted before the brokers had logins: its SCRAM credentials can only be written at format time.
            aside = self.dir / f"data-before-logins-{int(time.time())}"
            log(f"Kafka storage in {self.data} predates TLS and logins: moved to {aside}, formatting anew")
            self.data.rename(aside)
        if not (self.data / "meta.properties").exists():
            log(f"formatting Kafka storage in {self.data}")
            scram = [
                arg
                for login, password in profile.kafka_logins().items()
                for arg in ("--add-scram", f"SCRAM-SHA-512=[name={login},password={password}]")
            ]
            subprocess.run(
                [*kafka_java(), "kafka.tools.StorageTool", "format", "-t", KAFKA_CLUSTER_ID, "-c", str(self.config), *scram],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            self.formatted.touch()

    def launch(self) -> None:
        """Start this node unless it runs; does not wait for it."""
        if (pid := self.pid()) is not None and self.listening():
            return
        if pid is not None:
            log(f"Kafka node {self.node_id} (pid {pid}) does not answer; restarting it")
            self.kill()
        wait_until(lambda: not self.listening(), 30, "the old Kafka node to release its port")
        self._configure()
        log(f"starting Kafka node {self.node_id} on 127.0.0.1:{self.port}")
        with open(self.logfile, "ab") as out:
            self.process = subprocess.Popen(
                [*kafka_java(self.profile.kafka_brokers), "kafka.Kafka", str(self.config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pidfile.write_text(str(self.process.pid))

    def wait_listening(self) -> None:
        proc = self.process
        wait_until(
            lambda: self.listening() or (proc is not None and proc.poll() is not None), 90, f"Kafka node {self.node_id} to listen"
        )
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"Kafka node {self.node_id} exited with {proc.returncode}; see {self.logfile}")

    def down(self, timeout: float = 30) -> None:
        pid = self.pid()
        if pid is None:
            return
        log(f"stopping Kafka node {self.node_id}")
        _stop(pid, timeout, kill=os.kill)
        self.pidfile.unlink(missing_ok=True)

    def kill(self) -> None:
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            while _pid_alive(pid):
                time.sleep(0.05)


def kafka_java(brokers: int = 1) -> list[str]:
    if not KAFKA_LIB.exists() or not any(KAFKA_LIB.glob("kafka_2.13-*.jar")):
        raise RuntimeError("Kafka jars missing: run `make install` (mvn -f infra/kafka/pom.xml dependency:copy-dependencies)")
    heap = "-Xmx1g" if brokers == 1 else "-Xmx512m"  # three nodes share the machine
    return [
        shutil.which("java") or "java",
        "-Xms256m",
        heap,
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j.configuration=file:{KAFKA_DIR / 'log4j.properties'}",
        "-cp",
        f"{KAFKA_LIB}/*",
    ]


class Kafka:
    """The profile's Kafka: one KRaft node, or a cluster of `profile.kafka_brokers` nodes on loopback."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.nodes = [KafkaNode(profile, i) for i in range(profile.kafka_brokers)]
        self.last_error = "none"

    def running(self) -> bool:
        return all(node.listening() for node in self.nodes)

    def up(self) -> bool:
        """Start whichever nodes are not running; True when this call started any."""
        if self.running() and self._metadata_ok():
            return False
        for node in self.nodes:
            node.launch()
        for node in self.nodes:
            node.wait_listening()
        try:
            wait_until(self._metadata_ok, 90, "Kafka to answer metadata requests from every broker")
        except RuntimeError as exc:
            raise RuntimeError(f"{exc} (last: {self.last_error}); see {self.nodes[0].logfile}") from None
        return True

    def node(self, node_id: int) -> KafkaNode:
        return self.nodes[node_id - 1]

    def _metadata_ok(self) -> bool:
        import asyncio

        from services.kafka import create_admin

        async def probe() -> bool:
            client = create_admin(self.profile.kafka_access(), request_timeout_ms=10000)  # a JVM just started is slow
            await client.start()
            try:
                await client.list_topics()
                cluster = await client.describe_cluster()
                return len(cluster["brokers"]) == len(self.nodes)
            finally:
                await client.close()

        try:
            return asyncio.run(probe())
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            return False

    def provision(self, prefix: str) -> None:
        """The topics of a deployment's prefix and every service's ACLs on them (`services.kafka_acls`)."""
        import asyncio

        from services.kafka import TopicShape
        from services.kafka_acls import provision

        shape = TopicShape(6, min(3, self.profile.kafka_brokers), self.profile.min_insync_replicas)
        asyncio.run(provision(self.profile.kafka_access(), prefix, shape))

    def down(self, timeout: float = 30) -> None:
        for node in self.nodes:
            node.down(timeout)

    def kill(self) -> None:
        """SIGKILL every node, as a power cut would (used by fault tests)."""
        for node in self.nodes:
            node.kill()


# ---------------------------------------------------------------- Keycloak


class Keycloak:
    """The identity provider: Keycloak's server distribution (fetched by infra/keycloak/pom.xml and
    built once by `make install`), copied per profile so that profiles never share its work files,
    its data in the profile's PostgreSQL (database `keycloak`). The realm in
    infra/keycloak/realm-motcua.json is imported at the first start; later starts keep what is there.
    The master realm's administrator is created at the first start with a random password kept in
    `.run/<profile>/keycloak/admin-password`."""

    ADMIN = "admin"

    def __init__(self, profile: Profile, postgres: Postgres) -> None:
        self.profile = profile
        self.postgres = postgres
        self.dir = profile.root / "keycloak"
        self.home = self.dir / "server"
        self.pidfile = self.dir / "keycloak.pid"
        self.logfile = self.dir / "keycloak.log"
        self.password_file = self.dir / "admin-password"

    @staticmethod
    def distribution() -> Path:
        built = sorted(KEYCLOAK_DIR.glob("dist/keycloak-*/lib/quarkus/build-system.properties"))
        if not built:
            raise RuntimeError("Keycloak is not installed: run `make install` (infra/keycloak/pom.xml)")
        return built[-1].parent.parent.parent

    @property
    def admin_password(self) -> str:
        if not self.password_file.exists():
            self.dir.mkdir(parents=True, exist_ok=True)
            self.password_file.touch(mode=0o600)
            self.password_file.write_text(secrets.token_urlsafe(24))
        return self.password_file.read_text().strip()

    def pid(self) -> int | None:
        return _recorded_pid(self.pidfile)

    def running(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.profile.issuer}/.well-known/openid-configuration", timeout=2) as answer:
                return answer.status == 200
        except (OSError, ValueError):
            return False

    def _database(self) -> tuple[str, str]:
        from sqlalchemy.engine import make_url

        url = make_url(self.profile.database_url)
        if self.postgres.external:
            raise RuntimeError("with DATABASE_URL set, give Keycloak its own server too (not supported here)")
        self.postgres.ensure_database("keycloak", owner=KEYCLOAK_LOGIN)
        self.postgres.hand_over("keycloak", "public", KEYCLOAK_LOGIN)
        return f"jdbc:postgresql://{url.host}:{url.port}/keycloak", KEYCLOAK_LOGIN

    def _install(self) -> None:
        source = self.distribution()
        marker = self.home / "version.txt"
        if marker.exists() and marker.read_text() == (source / "version.txt").read_text():
            return
        shutil.rmtree(self.home, ignore_errors=True)
        shutil.copytree(source, self.home, symlinks=True)
        shutil.rmtree(self.home / "data", ignore_errors=True)

    def launch(self) -> subprocess.Popen[bytes] | None:
        """Start the server without waiting for it; None when it already answers."""
        if self.running():
            if not self.password_file.exists():
                raise RuntimeError(
                    f"a Keycloak this checkout did not start answers on {self.profile.keycloak_url}: stop it, "
                    "or give this checkout other ports (MOTCUA_PORT_OFFSET)"
                )
            return None
        if (stale := self.pid()) is not None:
            log(f"Keycloak (pid {stale}) does not answer; restarting it")
            self.down()
        self._install()
        imports = self.home / "data" / "import"
        imports.mkdir(parents=True, exist_ok=True)
        shutil.copy(KEYCLOAK_DIR / f"realm-{REALM}.json", imports / f"realm-{REALM}.json")
        shutil.copytree(KEYCLOAK_DIR / "themes", self.home / "themes", dirs_exist_ok=True)  # the login pages' words
        shutil.copy(KEYCLOAK_DIR / "quarkus.properties", self.home / "conf" / "quarkus.properties")  # pool validation
        jdbc, user = self._database()
        port = self.profile.keycloak_port
        log(f"starting Keycloak on {self.profile.keycloak_url}")
        env = {
            **os.environ,
            "KC_BOOTSTRAP_ADMIN_USERNAME": self.ADMIN,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": self.admin_password,
            "JAVA_OPTS_KC_HEAP": "-Xms128m -Xmx512m",
        }
        with open(self.logfile, "ab") as out:
            proc = subprocess.Popen(
                [
                    str(self.home / "bin" / "kc.sh"),
                    "start",
                    "--optimized",
                    "--import-realm",
                    f"--db-url={jdbc}",
                    f"--db-username={user}",
                    "--db-password=unused-with-trust-auth",
                    "--db-pool-max-size=10",
                    "--http-enabled=true",
                    "--http-host=127.0.0.1",
                    f"--http-port={port}",
                    f"--http-management-port={port + 1}",
                    f"--hostname={self.profile.keycloak_url}",
                    "--hostname-backchannel-dynamic=false",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        self.pidfile.write_text(str(proc.pid))
        return proc

    def wait(self, proc: subprocess.Popen[bytes] | None) -> bool:
        """Wait for a launched server to serve the realm; True when `launch` started it."""
        if proc is not None:
            wait_until(lambda: self.running() or proc.poll() is not None, 180, "Keycloak to serve the realm")
            if proc.poll() is not None:
                raise RuntimeError(f"Keycloak exited with {proc.returncode}; see {self.logfile}")
        self._sync_realm()
        return proc is not None

    def _sync_realm(self) -> None:
        """Keep the realm what the file in the repo says. Keycloak imports it only into an empty
        database, so when the file has changed since, the realm is made again from it (its users
        and client secrets go with it: the demo and the tests create theirs each time)."""
        from infra.identity import KeycloakAdmin

        realm_file = KEYCLOAK_DIR / f"realm-{REALM}.json"
        digest = hashlib.sha256(realm_file.read_bytes()).hexdigest()
        recorded = self.dir / "realm.sha256"
        if recorded.exists() and recorded.read_text() == digest:
            return
        admin = KeycloakAdmin(self.profile.keycloak_url, self.admin_password)
        if recorded.exists():
            log(f"the realm file changed: making realm {REALM} again from it")
            admin.delete_realm(REALM)
            admin.create_realm(REALM)
        recorded.write_text(digest)

    def up(self) -> bool:
        return self.wait(self.launch())

    def down(self, timeout: float = 30) -> None:
        pid = self.pid()
        if pid is None:
            return
        log("stopping Keycloak")
        _stop(pid, timeout, kill=os.killpg)  # its start script and the JVM under it
        self.pidfile.unlink(missing_ok=True)


class Stack:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.postgres = Postgres(profile)
        self.kafka = Kafka(profile)
        self.keycloak = Keycloak(profile, self.postgres)
        self.started: list[str] = []

    def up(self) -> Stack:
        if self.postgres.up():
            self.started.append("postgres")
        keycloak = self.keycloak.launch()  # starts in the background while Kafka starts
        if self.kafka.up():
            self.started.append("kafka")
        if self.keycloak.wait(keycloak):
            self.started.append("keycloak")
        return self

    def down(self, only_started: bool = False) -> None:
        if not only_started or "keycloak" in self.started:
            self.keycloak.down()
        if not only_started or "kafka" in self.started:
            self.kafka.down()
        if not only_started or "postgres" in self.started:
            self.postgres.down()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.stack")
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="dev")
    parser.add_argument("--brokers", type=int, default=1, help="Kafka nodes: 1, or 3 for a cluster (its own data and ports)")
    parser.add_argument(
        "--topic-prefix", default=os.environ.get("TOPIC_PREFIX", "motcua"), help="whose topics and ACLs `up` provisions"
    )
    args = parser.parse_args(argv)
    profile = PROFILES[args.profile]
    stack = Stack(profile if args.brokers == 1 else profile.cluster(args.brokers))
    if args.command == "up":
        stack.up()
        stack.kafka.provision(args.topic_prefix)
        for key, value in stack.profile.env().items():
            print(f"{key}={value}")
    elif args.command == "down":
        stack.down()
        Kafka(profile.cluster()).down()  # a cluster the fault tests started, too
    else:
        print(f"postgres: {'up' if stack.postgres.running() else 'down'} (127.0.0.1:{stack.profile.pg_port})")
        print(f"kafka:    {'up' if stack.kafka.running() else 'down'} ({stack.profile.kafka_bootstrap})")
        print(f"keycloak: {'up' if stack.keycloak.running() else 'down'} ({stack.profile.issuer})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
