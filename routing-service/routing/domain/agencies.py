"""The agencies routing hands steps to, as data (pure): each agency's code and name, the client id
its officers' API client (and its own system, when it has one) sign in with, their secrets, and,
for an agency whose own system sits behind the LGSP, where that system receives its steps.
`routing.adapters.agencies` reads them from ROUTING_AGENCIES_FILE and the environment."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)  # OAuth2 client credentials of its API client
    inbound_secret: str | None = field(default=None, repr=False)  # the HMAC key its LGSP requests are signed with
    lgsp_endpoint: str | None = None  # where its own system receives steps, through the LGSP


class Agencies:
    def __init__(self, agencies: Iterable[Agency]) -> None:
        listed = list(agencies)
        self.by_code = {a.code: a for a in listed}
        self.by_client = {a.client_id: a for a in listed}
        if len(self.by_code) != len(listed) or len(self.by_client) != len(listed):
            raise ValueError("agency codes and client ids must be unique")
