"""CPU seconds used by each process of the system during a run (from /proc), to say where the
machine's two cores went per dossier."""

from __future__ import annotations

import os
from pathlib import Path

from infra.processes import ServiceProcess
from infra.stack import Stack

TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _processes(field: int, value: int) -> list[int]:
    """Pids whose /proc stat field (after the name) is `value`: 1 the parent, 2 the process group."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[field]) == value:
                    pids.append(int(entry.name))
            except (OSError, IndexError):
                continue
    return pids


def _children_of_postgres(stack: Stack) -> list[int]:
    pidfile = stack.postgres.data / "postmaster.pid"
    if not pidfile.exists():
        return []
    postmaster = int(pidfile.read_text().split()[0])
    return [postmaster, *_processes(1, postmaster)]


class CpuMeter:
    def __init__(self, stack: Stack, services: dict[str, ServiceProcess]) -> None:
        self.stack = stack
        self.services = services
        self.start: dict[str, float] = {}

    def sample(self) -> dict[str, float]:
        usage = {name: _cpu_seconds(p.process.pid) for name, p in self.services.items() if p.process}
        usage["postgresql"] = sum(_cpu_seconds(pid) for pid in _children_of_postgres(self.stack))
        usage["kafka"] = sum(_cpu_seconds(pid) for node in self.stack.kafka.nodes if (pid := node.pid()))
        # Keycloak serves no request of the run (services check tokens themselves); what it uses is
        # its own housekeeping on the same cores.
        keycloak = self.stack.keycloak.pid()
        usage["keycloak"] = sum(_cpu_seconds(pid) for pid in _processes(2, keycloak)) if keycloak else 0.0
        return usage

    def begin(self) -> None:
        self.start = self.sample()

    def per_dossier_ms(self, dossiers: int) -> dict[str, float]:
        end = self.sample()
        used = {name: end[name] - self.start.get(name, 0.0) for name in end}
        return {name: round(seconds * 1000 / max(dossiers, 1), 2) for name, seconds in used.items()}
