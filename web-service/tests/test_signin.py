"""The console's own rules for sessions and sign-in, without a browser or Keycloak."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest
from cryptography.fernet import Fernet

from web.adapters.oidc import pkce_pair
from web.adapters.sessions import CookieSeal, PendingSignIn, Session, SessionExpired
from web.application.signin import safe_next
from web.domain.i18n import english, translate


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/ho-so/1?status=4", "/ho-so/1?status=4"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_after_signing_in_only_a_page_of_the_console_is_opened(given: str | None, expected: str) -> None:
    assert safe_next(given) == expected


def test_a_session_cookie_opens_until_it_has_been_idle_too_long_and_cannot_be_forged() -> None:
    seal = CookieSeal(Fernet.generate_key().decode(), idle_seconds=60)
    session = Session.new("refresh-token", "t-counter", "Nguyễn Thị Tiếp")
    assert seal.open_session(seal.seal_session(session)) == session

    old = seal._fernet.encrypt_at_time(b'{"sid": "x"}', int(time.time()) - 61).decode()
    with pytest.raises(SessionExpired):
        seal.open_session(old)
    other = CookieSeal(Fernet.generate_key().decode(), idle_seconds=60)
    with pytest.raises(SessionExpired):
        seal.open_session(other.seal_session(session))
    with pytest.raises(SessionExpired):
        seal.open_session("not a cookie")


def test_a_pending_sign_in_is_kept_only_for_ten_minutes() -> None:
    seal = CookieSeal(Fernet.generate_key().decode(), idle_seconds=60)
    pending = PendingSignIn("state", "verifier", "/ho-so")
    assert seal.open_sign_in(seal.seal_sign_in(pending)) == pending
    stale = seal._fernet.encrypt_at_time(b'{"state": "s", "verifier": "v", "next": "/"}', int(time.time()) - 601).decode()
    assert seal.open_sign_in(stale) is None


def test_the_pkce_challenge_is_the_s256_of_the_verifier() -> None:
    verifier, challenge = pkce_pair()
    assert len(verifier) >= 43
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == expected


def test_english_is_given_for_known_texts_and_vietnamese_otherwise() -> None:
    assert translate("Đăng nhập", "en") == "Sign in"
    assert translate("Đăng nhập", "vi") == "Đăng nhập"
    assert translate("Một câu chưa có bản dịch", "en") == "Một câu chưa có bản dịch"
    assert all(isinstance(v, str) and v for v in english().values())
