import random

from routing.domain.exchange import GENESIS, CircuitBreaker, chain_hash, first_broken
from services.signing import fresh, sign, signature_valid
from services.work_queue import backoff_seconds


def test_backoff_grows_is_capped_and_jittered() -> None:
    rng = random.Random(7)
    delays = [backoff_seconds(n, 0.5, 8.0, rng) for n in range(1, 9)]
    assert 0.25 <= delays[0] <= 0.5
    assert all(d <= 8.0 for d in delays) and delays[-1] >= 4.0
    assert len({round(backoff_seconds(3, 1, 60, rng), 6) for _ in range(20)}) > 1


def test_breaker_opens_after_threshold_then_lets_one_trial_through() -> None:
    breaker = CircuitBreaker(threshold=3, reset_after=5)
    for t in range(3):
        assert breaker.allow(t)
        breaker.failure(t)
    assert breaker.state(3) == "open" and not breaker.allow(4)
    assert breaker.allow(7.5) and not breaker.allow(7.6)  # half-open: a single trial
    breaker.failure(8)
    assert breaker.state(9) == "open"
    assert breaker.allow(13.1)
    breaker.success()
    assert breaker.state(13.2) == "closed" and breaker.allow(13.3)


def test_signatures_cover_body_timestamp_and_nonce() -> None:
    signature = sign("k", b'{"a":1}', "1700000000", "n-1")
    assert signature_valid("k", b'{"a":1}', "1700000000", "n-1", signature)
    assert not signature_valid("k", b'{"a":2}', "1700000000", "n-1", signature)
    assert not signature_valid("k", b'{"a":1}', "1700000001", "n-1", signature)
    assert not signature_valid("k", b'{"a":1}', "1700000000", "n-2", signature)
    assert not signature_valid("other", b'{"a":1}', "1700000000", "n-1", signature)


def test_stale_timestamps_are_not_fresh() -> None:
    assert fresh("1000", 1200, 300)
    assert not fresh("1000", 1301, 300)
    assert not fresh("2000", 1000, 300)
    assert not fresh("soon", 1000, 300)


def test_a_changed_or_removed_audit_record_breaks_the_chain() -> None:
    entries = [{"kind": "officer.accept", "n": i} for i in range(4)]
    records, previous = [], GENESIS
    for i, entry in enumerate(entries, start=1):
        digest = chain_hash(previous, entry)
        records.append((i, entry, previous, digest))
        previous = digest
    assert first_broken(records) is None
    tampered = list(records)
    tampered[1] = (2, {"kind": "officer.accept", "n": 99}, records[1][2], records[1][3])
    assert first_broken(tampered) == 2
    assert first_broken(records[:1] + records[2:]) == 3
