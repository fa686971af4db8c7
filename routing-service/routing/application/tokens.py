"""OAuth2 client credentials (RFC 6749 §4.4) for the agencies' API: an agency's API client trades
its id and secret for a short-lived bearer token naming the agency. Every grant and every refusal
is in the audit log."""

from __future__ import annotations

import secrets
from typing import Protocol

from routing.application.ports import RoutingUnitOfWork
from routing.domain.agencies import Agencies
from routing.schemas import TokenResponse
from services.problems import Problem


class TokenIssuer(Protocol):
    ttl_seconds: int

    def issue(self, agency_code: str, client_id: str) -> str: ...


def unauthorized(detail: str) -> Problem:
    """401 with the challenge a bearer-token client expects."""
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


async def issue_token(
    uow: RoutingUnitOfWork, agencies: Agencies, tokens: TokenIssuer, client_id: str | None, client_secret: str | None
) -> TokenResponse:
    """A token for the agency whose client this is, when the secret is its own; 401 otherwise."""
    agency = agencies.by_client.get(client_id or "")
    expected = agency.client_secret if agency else None
    granted = expected is not None and secrets.compare_digest((client_secret or "").encode(), expected.encode())
    async with uow() as work:
        await work.routes.audit("auth.token_issued" if granted else "auth.token_refused", (client_id or "unknown")[:64])
    if not granted or agency is None:
        raise unauthorized("unknown client or wrong secret")
    return TokenResponse(access_token=tokens.issue(agency.code, agency.client_id), expires_in=tokens.ttl_seconds)
