"""The agencies routing hands steps to, as data (pure): each agency's code and name, the client id
of its own system in the identity provider (its officers sign in as themselves), the key its
signed LGSP requests carry and, for an agency whose own system sits behind the LGSP, where that
system receives its steps. `routing.adapters.agencies` reads them from ROUTING_AGENCIES_FILE and
the environment."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    client_id: str  # its system's client in the identity provider (client credentials)
    inbound_secret: str | None = field(default=None, repr=False)  # the HMAC key its LGSP requests are signed with
    lgsp_endpoint: str | None = None  # where its own system receives steps, through the LGSP


class Agencies:
    def __init__(self, agencies: Iterable[Agency]) -> None:
        listed = list(agencies)
        self.by_code = {a.code: a for a in listed}
        self.by_client = {a.client_id: a for a in listed}
        if len(self.by_code) != len(listed) or len(self.by_client) != len(listed):
            raise ValueError("agency codes and client ids must be unique")
