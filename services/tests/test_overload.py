"""Past its bound of requests in flight, a service refuses at once with 503 problem+json."""

import asyncio

import httpx
from fastapi import FastAPI

from services.overload import LoadShedder


async def test_requests_past_the_bound_are_refused_quickly_and_admitted_ones_complete() -> None:
    release = asyncio.Event()
    app = FastAPI()

    @app.post("/dossiers")
    async def slow() -> dict[str, str]:
        await release.wait()
        return {"status": "accepted"}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(LoadShedder, max_in_flight=3)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        admitted = [asyncio.create_task(client.post("/dossiers")) for _ in range(3)]
        await asyncio.sleep(0.1)
        refused = await asyncio.wait_for(client.post("/dossiers"), 1)
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == "1"
        assert (await client.get("/healthz")).status_code == 200, "health is never shed"
        release.set()
        assert [r.status_code for r in await asyncio.gather(*admitted)] == [200, 200, 200]
        assert (await client.post("/dossiers")).status_code == 200, "capacity is back once requests finish"
