"""`KeyRing.digest`: the keyed hash a service keeps beside a sealed value for a unique constraint."""

from __future__ import annotations

from services.personal_data.keys import KeyRing

OLD, NEW = b"\x01" * 32, b"\x02" * 32


def test_a_digest_is_equal_for_the_same_value_and_purpose_and_tells_nothing_without_the_key() -> None:
    ring = KeyRing({"n1": OLD})
    assert ring.digest("0912345678", purpose="p") == KeyRing({"n1": OLD}).digest("0912345678", purpose="p")
    assert ring.digest("0912345678", purpose="p") != ring.digest("0912345679", purpose="p")
    assert ring.digest("0912345678", purpose="p") != ring.digest("0912345678", purpose="q")
    assert ring.digest("0912345678", purpose="p") != KeyRing({"x1": NEW}).digest("0912345678", purpose="p")
    assert "0912345678" not in ring.digest("0912345678", purpose="p")


def test_a_digest_follows_the_sealing_key() -> None:
    assert KeyRing({"n2": NEW, "n1": OLD}).digest("a", purpose="p") == KeyRing({"n2": NEW}).digest("a", purpose="p")
