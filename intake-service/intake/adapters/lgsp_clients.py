"""The systems that may post dossiers to intake through the LGSP, as data: a JSON file
(INTAKE_LGSP_CLIENTS_FILE) naming each client and the environment variable holding its HMAC key.
A client whose variable is unset cannot sign anything we accept."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

CLIENTS_FILE = Path(__file__).resolve().parents[2] / "lgsp_clients.json"


class LgspClient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str = Field(min_length=1, max_length=64)
    name: str
    secret_env: str = Field(description="Environment variable holding the HMAC key its requests are signed with.")

    @property
    def secret(self) -> str | None:
        return os.environ.get(self.secret_env) or None


class LgspClientFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    clients: list[LgspClient]


@lru_cache(maxsize=4)
def load_clients(path: Path) -> dict[str, LgspClient]:
    clients = LgspClientFile.model_validate(json.loads(Path(path).read_text(encoding="utf-8"))).clients
    by_id = {c.client_id: c for c in clients}
    if len(by_id) != len(clients):
        raise ValueError("LGSP client ids must be unique")
    return by_id
