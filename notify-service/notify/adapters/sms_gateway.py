"""The SMS-brandname gateway adapter (HTTP). URL, credentials, brandname and the request's shape
are configuration; the notice id travels as the gateway's idempotency id (in the body and in a
header), so a notice re-sent after a crash is not delivered twice by a gateway that honours it.

With a status URL configured (NOTIFY_SMS_STATUS_URL, `{id}` standing for the idempotency id) a
notice in doubt after a crash is looked up there before it is sent again: an answer that carries
an accepted code means the gateway took it; 404, or a code that is not accepted, that it did not;
anything else (no URL, no answer, another status) that it cannot tell."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from notify.application.ports import Acceptance, Outcome, Outgoing
from notify.settings import NotifySettings


def fill(template: Any, values: Mapping[str, str]) -> Any:
    """The request body: the configured JSON shape with `{placeholder}` strings filled in.
    Filling after parsing keeps message text from ever breaking the JSON."""
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    if isinstance(template, str):
        out = template
        for key, value in values.items():
            out = out.replace("{" + key + "}", value)
        return out
    return template


def lookup(body: Any, path: str) -> Any:
    """`a.b.c` in a JSON answer, or None."""
    for part in path.split("."):
        if not isinstance(body, dict) or part not in body:
            return None
        body = body[part]
    return body


def codes(spec: str) -> set[str]:
    return {c.strip() for c in spec.split(",") if c.strip()}


def classify(status_code: int, body: Any, settings: NotifySettings) -> Outcome:
    """Reads the gateway's answer: accepted, rejected with a code, or a transient failure."""
    if status_code in (408, 425, 429) or status_code >= 500:
        return Outcome("transient", f"gateway answered HTTP {status_code}", code=f"http-{status_code}")
    if status_code >= 400:
        code = lookup(body, settings.sms_result_field)
        return Outcome(
            "rejected",
            f"gateway refused the request (HTTP {status_code})",
            code=str(code) if code is not None else f"http-{status_code}",
        )
    code = lookup(body, settings.sms_result_field)
    code_text = str(code) if code is not None else ""
    message = lookup(body, "message") or lookup(body, "description") or ""
    if code_text in codes(settings.sms_accepted_codes):
        provider_id = lookup(body, settings.sms_message_id_field)
        return Outcome.accepted(str(provider_id) if provider_id is not None else None)
    if code_text in codes(settings.sms_transient_codes):
        return Outcome("transient", f"gateway busy: {message}".strip(": "), code=code_text)
    return Outcome("rejected", str(message) or "rejected by the gateway", code=code_text or "unknown")


def known(status_code: int, body: Any, settings: NotifySettings) -> Acceptance:
    """Reads the gateway's answer to a status query on one idempotency id."""
    if status_code == 404:
        return "no"
    if not 200 <= status_code < 300 or not isinstance(body, dict):
        return "unknown"
    code = lookup(body, settings.sms_result_field)
    return "yes" if code is not None and str(code) in codes(settings.sms_accepted_codes) else "no"


class HttpSmsGateway:
    def __init__(self, settings: NotifySettings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.template = json.loads(settings.sms_request_template)
        auth = None
        if settings.sms_basic_auth and settings.sms_username is not None:
            auth = httpx.BasicAuth(settings.sms_username, settings.sms_password or "")
        self.client = client or httpx.AsyncClient(timeout=settings.sms_timeout_seconds, auth=auth)

    async def send(self, notice: Outgoing) -> Outcome:
        assert self.settings.sms_gateway_url is not None
        body = fill(
            self.template,
            {
                "brandname": self.settings.sms_brandname,
                "phone": notice.recipient,
                "text": notice.body,
                "id": notice.idempotency_id,
                "username": self.settings.sms_username or "",
                "password": self.settings.sms_password or "",
            },
        )
        headers = {self.settings.sms_idempotency_header: notice.idempotency_id} if self.settings.sms_idempotency_header else {}
        try:
            response = await self.client.post(self.settings.sms_gateway_url, json=body, headers=headers)
        except httpx.HTTPError as exc:  # timeouts, refused connections: the gateway may come back
            return Outcome("transient", f"{type(exc).__name__}: {exc}".strip(": "), code="network")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        return classify(response.status_code, answer, self.settings)

    async def already_accepted(self, notice: Outgoing) -> Acceptance:
        if not self.settings.sms_status_url:
            return "unknown"  # the gateway's own idempotency id is what keeps a repeat off the phone
        url = self.settings.sms_status_url.replace("{id}", quote(notice.idempotency_id, safe=""))
        try:
            response = await self.client.get(url)
        except httpx.HTTPError:
            return "unknown"
        try:
            answer = response.json()
        except ValueError:
            answer = None
        return known(response.status_code, answer, self.settings)

    async def close(self) -> None:
        await self.client.aclose()
