"""Signing in to the console and out again, in Chromium, through Keycloak's own login page; and the
clear pages an officer is shown instead of an error: a wrong password, an expired session, a page
their roles do not cover."""

from __future__ import annotations

import time

from cryptography.fernet import Fernet
from playwright.sync_api import expect

from infra.processes import console_env, start_console
from tests.conftest import SERVICES, Console, Screenshots, System, free_port


def test_an_officer_signs_in_through_keycloak_lands_on_their_work_and_signs_out(console: Console, shot: Screenshots) -> None:
    page = console.page()
    page.goto(console.url)
    shot(page, "front page")
    page.get_by_role("link", name="Đăng nhập").click()
    expect(page.locator("#kc-login")).to_be_visible()
    shot(page, "keycloak login")
    officer = console.identities.officers["leader"]
    page.locator("#username").fill(officer.username)
    page.locator("#password").fill(officer.password)
    page.locator("#kc-login").click()
    expect(page.locator("header .name")).to_have_text(officer.name)
    assert page.url.startswith(console.url)
    shot(page, "signed in")
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("link", name="Đăng nhập")).to_be_visible()
    page.goto(f"{console.url}/thong-ke")
    expect(page.locator("#kc-login")).to_be_visible()  # signed out at Keycloak too: it asks again


def test_a_wrong_password_is_told_on_the_login_page(console: Console, shot: Screenshots) -> None:
    page = console.page()
    page.goto(f"{console.url}/dang-nhap")
    page.locator("#username").fill(console.identities.officers["counter"].username)
    page.locator("#password").fill("not-the-password")
    page.locator("#kc-login").click()
    expect(page.get_by_text("Tên đăng nhập hoặc mật khẩu không đúng.")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Traceback")
    shot(page, "wrong password")


def test_an_expired_session_is_told_and_offers_to_sign_in_again(system: System, console: Console, shot: Screenshots) -> None:
    port = free_port()
    urls = {name: system.url(name) for name in SERVICES}
    short = start_console(
        console_env(system.env, urls, port, Fernet.generate_key().decode(), WEB_SESSION_IDLE_SECONDS="2"),
        port,
        system.logs / "web-short.log",
    )
    try:
        page = console.page()
        officer = console.identities.officers["counter"]
        page.goto(f"{short.url}/dang-nhap")
        page.locator("#username").fill(officer.username)
        page.locator("#password").fill(officer.password)
        page.locator("#kc-login").click()
        expect(page.locator("header .name")).to_have_text(officer.name)
        time.sleep(3)
        page.reload()
        expect(page.get_by_role("heading", name="Phiên làm việc đã hết hạn")).to_be_visible()
        expect(page.get_by_role("link", name="Đăng nhập lại")).to_be_visible()
        shot(page, "session expired")
    finally:
        short.stop()


def test_an_officer_without_a_role_for_the_console_is_shown_a_clear_page(console: Console, shot: Screenshots) -> None:
    page = console.page()
    console.sign_in(page, "nobody")
    expect(page.get_by_role("heading", name="Không có quyền")).to_be_visible()
    shot(page, "no role")


def test_the_pages_switch_to_english(console: Console) -> None:
    page = console.page()
    page.goto(console.url)
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.get_by_role("link", name="Đăng nhập")).to_be_visible()
