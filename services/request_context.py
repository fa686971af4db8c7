"""Request ids and request metrics, as plain ASGI middleware (no per-request task or body copy)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.events.envelope import current_actor
from services.logging import fields, request_id_var
from services.metrics import HTTP_REQUESTS

access_log = logging.getLogger("motcua.access")

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestContext:
    """Takes the caller's `X-Request-ID` (when it is a safe token) or makes one, puts it in every
    log line of the request and in the response, times the request by route and status, writes one
    access line per request, and keeps the caller's identity (`current_actor`) to the request.

    The access line names the route's template (`/dossiers/{dossier_id}`), never the query string:
    the citizen look-up carries its secret there. (`uvicorn.access`, which logs the raw target, stays off.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        # The caller's identity (set once the token is checked) is this request's only, whatever
        # task the server runs it in.
        actor_token = current_actor.set(None)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels(scope["method"], route, str(status)).observe(elapsed)
            client = scope.get("client")
            access_log.info(
                "%s %s %s",
                scope["method"],
                route,
                status,
                extra=fields(
                    method=scope["method"],
                    path=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 1),
                    client=client[0] if client else None,
                ),
            )
            request_id_var.reset(token)
            current_actor.reset(actor_token)
