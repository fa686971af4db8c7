"""The console as a process and Debian's Chromium driven by Playwright, for the web tests: sign in
through Keycloak's own login page as a test officer, and keep a screenshot of each page for review
(under `test-results/screenshots/<test>/`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "test-results" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach Google, which this
# machine's closed network refuses; root needs --no-sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@contextmanager
def chromium() -> Iterator[tuple[Playwright, Browser]]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield playwright, browser
        finally:
            browser.close()


def new_context(browser: Browser, *, phone: bool = False) -> BrowserContext:
    size = {"width": 390, "height": 844} if phone else {"width": 1366, "height": 900}
    context = browser.new_context(
        locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", viewport=size, is_mobile=phone, has_touch=phone, accept_downloads=True
    )
    context.set_default_timeout(20_000)
    return context


class Screenshots:
    """Numbered screenshots of one test, full page, in `test-results/screenshots/<test>/`."""

    def __init__(self, test_name: str) -> None:
        self.folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", test_name)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def __call__(self, page: Page, name: str) -> Path:
        self.count += 1
        slug = re.sub(r"[^\w.-]+", "_", name)
        path = self.folder / f"{self.count:02d}-{slug}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def sign_in(page: Page, console_url: str, username: str, password: str, next_path: str = "/") -> None:
    """Through Keycloak's login page, as an officer would; ends back on the console."""
    page.goto(f"{console_url}/dang-nhap?next={next_path}")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("#kc-login").click()
    page.wait_for_url(re.compile(re.escape(console_url) + ".*"))
    expect(page.locator("body")).not_to_contain_text("Traceback")


UNLABELLED_FIELDS = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
  .map(e => e.outerHTML.slice(0, 120))"""


def assert_usable(page: Page) -> None:
    """What every page owes its reader: no stack trace, a label on every field, nothing wider than the screen."""
    expect(page.locator("body")).not_to_contain_text("Traceback")
    assert page.evaluate(UNLABELLED_FIELDS) == [], f"fields without a label on {page.url}"
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{page.url} is {overflow}px wider than the screen"
