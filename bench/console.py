"""What the web console costs an officer: the time to serve its pages, set beside the time of the
service call each page is built on, over the benchmark stack after the sustained run (so the lists
and reports read thousands of dossiers). Signed in the way a browser is, through Keycloak's login form."""

from __future__ import annotations

import re
import statistics
import time
from html import unescape
from pathlib import Path
from typing import Any

import httpx

from infra.identity import Officer
from infra.processes import console_env, start_console
from infra.stack import Stack

CONSOLE_PORT = 18005
LOGIN_FORM = re.compile(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"')


def browser_sign_in(console: str, officer: Officer) -> httpx.Client:
    """A client holding the console's session cookie, after the code flow through Keycloak's login page."""
    client = httpx.Client(follow_redirects=True, timeout=30)
    login_page = client.get(f"{console}/dang-nhap")
    for (
        cookie
    ) in client.cookies.jar:  # Keycloak marks its cookies Secure; a browser sends them to a loopback http address, httpx does not
        cookie.secure = False
    action = LOGIN_FORM.search(login_page.text)
    if action is None:
        raise RuntimeError(f"no login form at {login_page.url}")
    landed = client.post(unescape(action.group(1)), data={"username": officer.username, "password": officer.password})
    if not str(landed.url).startswith(console) or "motcua_session" not in client.cookies:
        raise RuntimeError(f"signing in ended at {landed.url} ({landed.status_code})")
    return client


def _median_ms(client: httpx.Client, url: str, runs: int, **kwargs: Any) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url, **kwargs)
        timings.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    return round(statistics.median(timings), 1)


def measure_console(
    stack: Stack,
    service_env: dict[str, str],
    urls: dict[str, str],
    officer: Officer,
    token: str,
    pages: list[dict[str, Any]],
    logs: Path,
    runs: int,
) -> list[dict[str, Any]]:
    """For each page: the median time of the page and of the API call it rests on, and their ratio."""
    process = start_console(
        console_env(service_env, urls, CONSOLE_PORT, stack.profile.web_session_key(), LOG_LEVEL="WARNING"),
        CONSOLE_PORT,
        logs / "web.log",
    )
    try:
        console = process.url
        browser = browser_sign_in(console, officer)
        api = httpx.Client(timeout=30, headers={"Authorization": f"Bearer {token}"})
        figures = []
        for page in pages:
            path = page["path"]
            _median_ms(browser, f"{console}{path}", 2)  # warm: templates compiled, connections open
            page_ms = _median_ms(browser, f"{console}{path}", runs)
            api_ms = _median_ms(api, f"{urls[page['service']]}{page['api']}", runs) if page.get("api") else None
            figures.append(
                {
                    "page": page["label"],
                    "path": path,
                    "page_ms": page_ms,
                    "api": page.get("api"),
                    "api_ms": api_ms,
                    "ratio": round(page_ms / api_ms, 2) if api_ms else None,
                }
            )
        return figures
    finally:
        process.stop()
