"""The agencies file (ROUTING_AGENCIES_FILE): a JSON list naming each agency, the identity
provider's client id of its system, the environment variable holding the key of its signed LGSP
requests and, for an agency whose own system sits behind the LGSP, that system's endpoint. Read
and validated once per path, so a bad file stops the start."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from routing.domain.agencies import Agencies, Agency


class AgencyConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    name: str
    client_id: str = Field(description="Its system's client id in the identity provider (Keycloak).")
    inbound_secret_env: str | None = Field(
        None, description="Environment variable holding the HMAC key its LGSP requests are signed with."
    )
    lgsp_endpoint: str | None = Field(None, description="Where its own system receives steps, through the LGSP.")

    def agency(self) -> Agency:
        """The agency, with its signing key from the environment (an unset or empty variable: none)."""
        return Agency(
            code=self.code,
            name=self.name,
            client_id=self.client_id,
            inbound_secret=(os.environ.get(self.inbound_secret_env) or None) if self.inbound_secret_env else None,
            lgsp_endpoint=self.lgsp_endpoint,
        )


class AgencyFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    agencies: list[AgencyConfig]


@lru_cache(maxsize=4)
def load_agencies(path: Path) -> Agencies:
    listed = AgencyFile.model_validate(json.loads(Path(path).read_text(encoding="utf-8"))).agencies
    return Agencies(entry.agency() for entry in listed)
