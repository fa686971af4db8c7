"""Load shedding: past a bound of requests in flight, answer 503 at once instead of queueing.

A request that waits behind hundreds of others times out at the client anyway, after holding
memory and a place in the database pool's queue; refusing it quickly, with Retry-After, lets the
client (a counter's browser, an agency's system, the LGSP) back off and keeps latency bounded for
the requests that are admitted. Health, readiness and metrics are never shed."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from services.metrics import HTTP_SHED

EXEMPT = ("/healthz", "/readyz", "/metrics")


class LoadShedder:
    def __init__(self, app: ASGIApp, max_in_flight: int, retry_after_s: int = 1) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.retry_after_s = retry_after_s
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT or self.max_in_flight <= 0:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            HTTP_SHED.inc()
            await self._refuse(scope, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = json.dumps(
            {
                "type": "https://motcua.example/problems/overloaded",
                "title": "Service overloaded",
                "status": 503,
                "detail": f"more than {self.max_in_flight} requests in progress; nothing was changed, retry after {self.retry_after_s} s",
                "instance": scope["path"],
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"retry-after", str(self.retry_after_s).encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
