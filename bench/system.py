"""The four services over the benchmark stack, on a database of their own."""

from __future__ import annotations

import json
import secrets
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from infra.identity import KeycloakAdmin, Officer, TokenAuth, officer_auth
from infra.processes import ServiceProcess, start_services
from infra.stack import REPO, Stack

# The benchmark files dossiers at every unit of the province: as the province administrator.
BENCH_OFFICER = Officer("bench.quantri", "Quản trị đo tải", ("province-admin",))


def province_catalogue(folder: Path, units: int = 20) -> tuple[Path, list[str]]:
    """The shipped catalogue with the receiving units of a province's communes added. A unit
    numbers at most 9,999 dossiers a day (the code's 4-digit sequence) and one run files more than
    that, as a province does across its units."""
    catalogue = json.loads((REPO / "intake-service" / "catalogue" / "procedures.json").read_text(encoding="utf-8"))
    known = {u["code"] for u in catalogue["units"]}
    extra = [{"code": f"000.{n:02d}.30.H30", "name": f"Bộ phận một cửa xã số {n}"} for n in range(2, 2 + units)]
    catalogue["units"] += [u for u in extra if u["code"] not in known]
    path = folder / "procedures.json"
    path.write_text(json.dumps(catalogue, ensure_ascii=False), encoding="utf-8")
    return path, [u["code"] for u in catalogue["units"]]


@dataclass
class BenchSystem:
    database: str
    database_url: str
    services: dict[str, ServiceProcess]
    units: list[str]
    auth: TokenAuth
    officer: Officer
    env: dict[str, str]

    def token(self) -> str:
        return self.auth.token

    @property
    def intake(self) -> str:
        return self.services["intake"].url

    def stop(self) -> None:
        for process in self.services.values():
            process.stop()


def start_system(stack: Stack, name: str) -> BenchSystem:
    """A fresh database per run (figures never depend on earlier runs' rows, nor on how many of
    today's dossier-code numbers they used), its own topics, and the services started on it."""
    database = f"motcua_{name}_{int(time.time())}"
    stack.postgres.create_database(database)
    database_url = f"postgresql+asyncpg://motcua@127.0.0.1:{stack.profile.pg_port}/{database}"
    catalogue, units = province_catalogue(Path(tempfile.mkdtemp()))
    env = {
        **stack.profile.env(),
        "DATABASE_URL": database_url,
        "TOPIC_PREFIX": f"{name}{int(time.time())}",
        "NOTIFY_SINK_PATH": str(Path(tempfile.mkdtemp()) / "notices.jsonl"),
        "LOG_LEVEL": "WARNING",
        "INTAKE_CATALOGUE_PATH": str(catalogue),
    }
    stack.kafka.provision(env["TOPIC_PREFIX"])
    officer = replace(BENCH_OFFICER, password=secrets.token_urlsafe(16))
    KeycloakAdmin.of(stack.profile).ensure_officer(officer)
    services = start_services(env, stack.profile.root / "logs", 18001)
    return BenchSystem(database, database_url, services, units, officer_auth(stack.profile.issuer, officer), officer, env)
