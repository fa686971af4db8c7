"""The agencies routing talks to, as data: a JSON file (ROUTING_AGENCIES_FILE) naming each
agency, its API client id, and the environment variables holding its secrets; an agency whose
own system sits behind the LGSP also names that system's endpoint."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class AgencyConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    name: str
    client_id: str
    client_secret_env: str = Field(description="Environment variable holding the OAuth2 client secret.")
    inbound_secret_env: str | None = Field(
        None, description="Environment variable holding the HMAC key its LGSP requests are signed with."
    )
    lgsp_endpoint: str | None = Field(None, description="Where its own system receives steps, through the LGSP.")

    @property
    def client_secret(self) -> str | None:
        return os.environ.get(self.client_secret_env) or None

    @property
    def inbound_secret(self) -> str | None:
        return os.environ.get(self.inbound_secret_env) or None if self.inbound_secret_env else None


class AgencyFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    agencies: list[AgencyConfig]


class Agencies:
    def __init__(self, agencies: list[AgencyConfig]) -> None:
        self.by_code = {a.code: a for a in agencies}
        self.by_client = {a.client_id: a for a in agencies}
        if len(self.by_code) != len(agencies) or len(self.by_client) != len(agencies):
            raise ValueError("agency codes and client ids must be unique")

    @classmethod
    def load(cls, path: Path) -> Agencies:
        return cls(AgencyFile.model_validate(json.loads(Path(path).read_text(encoding="utf-8"))).agencies)
