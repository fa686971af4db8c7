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
