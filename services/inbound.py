"""Signed requests from the LGSP (trục liên thông) and agencies' systems, checked one way in every
service: the caller names itself (`X-Client-Id`), signs `timestamp \\n nonce \\n body` with its key
(`X-Signature`, hex HMAC-SHA256, see `services.signing`), and the timestamp must be fresh. The
nonce is then claimed in the same transaction as the action (`services.idempotency.Claims`), so a
replay is refused, and a retry after a failed action is carried out."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from services.signing import fresh, signature_valid


@dataclass(frozen=True)
class SignedRequest:
    """What a signed request carries: its credentials as sent (any may be missing) and its body."""

    client_id: str | None
    timestamp: str | None
    nonce: str | None
    signature: str | None
    body: bytes


class Refused(Exception):
    """A signed request that does not prove who sent it, or not now: answered 401 and logged."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason  # the problem type: bad-signature, stale-request
        self.detail = detail


async def signed_request(
    request: Request,
    # Optional in the schema, so that a request without its credentials is 401 like a bad signature, not 422.
    client_id: Annotated[
        str | None, Header(alias="X-Client-Id", max_length=128, description="The caller, as registered.")
    ] = None,
    timestamp: Annotated[str | None, Header(alias="X-Timestamp", max_length=32, description="Unix seconds.")] = None,
    nonce: Annotated[
        str | None,
        Header(
            alias="X-Nonce",
            min_length=8,
            max_length=128,
            description="Unique per delivery; a retry of the same delivery reuses it.",
        ),
    ] = None,
    signature: Annotated[
        str | None, Header(alias="X-Signature", max_length=128, description="Hex HMAC-SHA256 of `timestamp\\nnonce\\nbody`.")
    ] = None,
) -> SignedRequest:
    return SignedRequest(client_id, timestamp, nonce, signature, await request.body())


SignedRequestDep = Annotated[SignedRequest, Depends(signed_request)]


@dataclass(frozen=True)
class Verified:
    """A request whose signature and freshness checked out."""

    client_id: str
    nonce: str
    body: bytes


def verify(signed: SignedRequest, secret: str | None, *, max_skew_seconds: float, now: float | None = None) -> Verified:
    """The request, verified with the caller's key (None: unknown caller); `Refused` otherwise."""
    if (
        secret is None
        or signed.client_id is None
        or signed.timestamp is None
        or signed.nonce is None
        or signed.signature is None
        or not signature_valid(secret, signed.body, signed.timestamp, signed.nonce, signed.signature)
    ):
        raise Refused("bad-signature", "unknown client or bad signature")
    if not fresh(signed.timestamp, time.time() if now is None else now, max_skew_seconds):
        raise Refused("stale-request", "stale request: timestamp outside the allowed window")
    return Verified(signed.client_id, signed.nonce, signed.body)
