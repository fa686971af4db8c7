"""Every response carries a request id that also tags the request's log lines."""

import logging

import httpx
import pytest
from fastapi import FastAPI

from services.logging import request_id_var
from services.request_context import RequestContext


@pytest.fixture
def app() -> FastAPI:
    app = FastAPI()

    @app.get("/dossiers/{code}")
    async def read(code: str) -> dict[str, str | None]:
        logging.getLogger("test").info("looked up %s", code)
        return {"request_id": request_id_var.get()}

    app.add_middleware(RequestContext)
    return app


async def test_the_callers_request_id_is_kept_and_echoed(app: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        response = await client.get("/dossiers/x", headers={"X-Request-ID": "lgsp-7f3a.1"})
    assert response.headers["x-request-id"] == "lgsp-7f3a.1"
    assert response.json() == {"request_id": "lgsp-7f3a.1"}


async def test_a_missing_or_unsafe_request_id_is_replaced(app: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        fresh = await client.get("/dossiers/x")
        forged = await client.get("/dossiers/x", headers={"X-Request-ID": "a\nlevel=error msg=forged"})
    assert len(fresh.headers["x-request-id"]) == 32
    assert "\n" not in forged.headers["x-request-id"] and forged.headers["x-request-id"] != "a\nlevel=error msg=forged"
    assert request_id_var.get() is None, "the id does not leak past the request"


async def test_each_request_writes_one_json_access_line_without_the_query(app: FastAPI) -> None:
    import json

    from services.logging import JsonFormatter

    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(JsonFormatter("intake").format(record))  # type: ignore[method-assign]
    access = logging.getLogger("motcua.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
            await client.get("/dossiers/HS-1?ms=SECRET123", headers={"X-Request-ID": "req-1"})
    finally:
        access.removeHandler(handler)
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "info" and entry["request_id"] == "req-1"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/dossiers/{code}", 200)
    assert entry["duration_ms"] >= 0 and entry["client"] == "127.0.0.1"
    assert "SECRET123" not in lines[0] and "HS-1" not in lines[0]
