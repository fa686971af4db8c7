"""Signed requests from the LGSP (trục liên thông) and agencies' systems: HMAC-SHA256, hex, over
`timestamp \\n nonce \\n body` with the caller's key, and a freshness window on the timestamp.
Pure; `services.inbound` checks requests with it, and a nonce is claimed through `services.idempotency`."""

from __future__ import annotations

import hashlib
import hmac


def signing_input(body: bytes, timestamp: str, nonce: str) -> bytes:
    return timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body


def sign(secret: str, body: bytes, timestamp: str, nonce: str) -> str:
    """HMAC-SHA256, hex, over `timestamp \\n nonce \\n body`."""
    return hmac.new(secret.encode(), signing_input(body, timestamp, nonce), hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, timestamp: str, nonce: str, signature: str) -> bool:
    # bytes, not str: compare_digest refuses non-ASCII text, and a header may carry any byte
    return hmac.compare_digest(sign(secret, body, timestamp, nonce).encode(), signature.encode("utf-8", "surrogateescape"))


def fresh(timestamp: str, now: float, max_skew: float) -> bool:
    """A signed request is fresh when its timestamp is within `max_skew` seconds of now."""
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    return abs(now - sent) <= max_skew
