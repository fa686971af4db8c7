"""Running the four services as real processes, for `make run` and the end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from infra.stack import KAFKA_LOGINS_FILE, LOGIN_PER_SERVICE, REPO, login_url
from services.personal_data.rings import KEYRINGS_FILE, process_env

SERVICES = ("intake", "routing", "deadline", "notify")
PYTHONPATH = os.pathsep.join([str(REPO)] + [str(REPO / f"{name}-service") for name in (*SERVICES, "web")])


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    replica: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        env = {**os.environ, **self.env, "PYTHONPATH": PYTHONPATH, "HTTP_PORT": str(self.port), "PYTHONUNBUFFERED": "1"}
        if env.get(LOGIN_PER_SERVICE) == "1" and self.name in SERVICES and "DATABASE_URL" in env:
            env["DATABASE_URL"] = login_url(env["DATABASE_URL"], self.name)  # its own login: its schema, nothing else
        if env.get(KAFKA_LOGINS_FILE) and self.name in SERVICES:  # its own Kafka login: its topics, nothing else
            env["KAFKA_SASL_USERNAME"] = self.name
            env["KAFKA_SASL_PASSWORD"] = json.loads(Path(env[KAFKA_LOGINS_FILE]).read_text())[self.name]
        if rings := env.pop(KEYRINGS_FILE, None):  # its own personal-data keys, and no other service's
            if self.name in SERVICES:
                env.update(process_env(self.name, Path(rings)))
        if self.name not in SERVICES:  # the console never talks to Kafka
            for key in ("KAFKA_SASL_PASSWORD", KAFKA_LOGINS_FILE):
                env.pop(key, None)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.name, "serve"],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the parent decides when it stops, not the terminal's Ctrl-C
            )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode if self.process else '?'}; see {self.log_path}"
                )
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown code runs."""
        if self.alive():
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 15) -> None:
        if not self.alive():
            return
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def start_services(
    env: dict[str, str], logs: Path, base_port: int, names: tuple[str, ...] = SERVICES
) -> dict[str, ServiceProcess]:
    processes = {name: ServiceProcess(name, base_port + i, env, logs / f"{name}.log").start() for i, name in enumerate(names)}
    try:
        for process in processes.values():
            process.wait_ready()
    except Exception:
        for process in processes.values():
            process.stop()
        raise
    return processes


def console_env(service_env: dict[str, str], urls: dict[str, str], port: int, session_key: str, **extra: str) -> dict[str, str]:
    """The web console's environment: the issuer, the four services' addresses, where browsers reach it."""
    return {
        "OIDC_ISSUER": service_env["OIDC_ISSUER"],
        "WEB_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "WEB_SESSION_KEY": session_key,
        **{f"{name.upper()}_URL": url for name, url in urls.items()},
        "LOG_LEVEL": service_env.get("LOG_LEVEL", "INFO"),
        **extra,
    }


def start_console(env: dict[str, str], port: int, log_path: Path) -> ServiceProcess:
    """The web console (`web-service/`) as a process, once it answers /readyz."""
    process = ServiceProcess("web", port, env, log_path).start()
    try:
        process.wait_ready()
    except Exception:
        process.stop()
        raise
    return process
