"""Trustworthy exchange with the LGSP and the national portal (pure): a circuit breaker per
endpoint and the hash chain of the audit log (nhật ký trao đổi). Signatures are the kernel's
(`services.signing`, `services.inbound`), and so are retry delays (`services.work_queue`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64


@dataclass
class CircuitBreaker:
    """Per-endpoint breaker: after `threshold` consecutive failures it opens for `reset_after`
    seconds (calls are not attempted), then lets one trial call through (half-open)."""

    threshold: int = 3
    reset_after: float = 5.0
    failures: int = 0
    opened_at: float | None = None
    trial_in_flight: bool = field(default=False)

    def state(self, now: float) -> str:
        if self.opened_at is None:
            return "closed"
        return "half-open" if now - self.opened_at >= self.reset_after else "open"

    def allow(self, now: float) -> bool:
        state = self.state(now)
        if state == "closed":
            return True
        if state == "half-open" and not self.trial_in_flight:
            self.trial_in_flight = True
            return True
        return False

    def success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self.trial_in_flight = False

    def failure(self, now: float) -> None:
        self.failures += 1
        self.trial_in_flight = False
        if self.opened_at is not None or self.failures >= self.threshold:
            self.opened_at = now


class Breakers:
    """One breaker per endpoint, made on first use, all with the same threshold and reset time."""

    def __init__(self, threshold: int, reset_after: float) -> None:
        self.threshold = threshold
        self.reset_after = reset_after
        self.by_endpoint: dict[str, CircuitBreaker] = {}

    def __getitem__(self, endpoint: str) -> CircuitBreaker:
        return self.by_endpoint.setdefault(endpoint, CircuitBreaker(self.threshold, self.reset_after))


def canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def chain_hash(previous: str, entry: dict[str, Any]) -> str:
    """Each audit record's hash covers the previous record's hash and its own canonical content."""
    return hashlib.sha256(previous.encode() + canonical(entry)).hexdigest()


def first_broken(records: list[tuple[int, dict[str, Any], str, str]]) -> int | None:
    """The id of the first record whose link or hash does not check out; records are (id, entry, prev_hash, hash) in id order."""
    previous = GENESIS
    for record_id, entry, prev_hash, digest in records:
        if prev_hash != previous or chain_hash(prev_hash, entry) != digest:
            return record_id
        previous = digest
    return None
