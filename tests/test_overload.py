"""At more than intake can take, it refuses quickly with 503 problem+json (Retry-After) instead of
queueing without bound, and nothing it accepted is lost: a refused submission retried with the
same Idempotency-Key is received once."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx

from conftest import Identities, free_port
from infra.processes import ServiceProcess
from tests.conftest import BIRTH_GROUP

BURST = 120


async def burst(url: str, keys: list[str], auth: httpx.Auth) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=BURST)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60, auth=auth) as client:
        return await asyncio.gather(*(client.post("/dossiers", json=BIRTH_GROUP, headers={"Idempotency-Key": k}) for k in keys))


def test_a_burst_past_capacity_is_shed_with_503_and_nothing_accepted_is_lost(
    migrated: dict[str, str], identities: Identities, tmp_path: Path
) -> None:
    counter = identities.auth("counter")
    intake = ServiceProcess("intake", free_port(), {**migrated, "MAX_IN_FLIGHT": "4"}, tmp_path / "intake-small.log").start()
    try:
        intake.wait_ready()
        keys = [str(uuid.uuid4()) for _ in range(BURST)]
        responses = asyncio.run(burst(intake.url, keys, counter))
        statuses = [r.status_code for r in responses]
        assert set(statuses) <= {201, 503}, statuses
        refused = [(k, r) for k, r in zip(keys, responses, strict=False) if r.status_code == 503]
        assert refused, "a burst of 120 at once must exceed 4 in flight"
        for _, response in refused:
            assert response.headers["content-type"] == "application/problem+json"
            assert int(response.headers["retry-after"]) >= 1
        accepted = {r.json()["id"] for r in responses if r.status_code == 201}

        for key, _ in refused:  # the client's retry, same key
            for _ in range(50):
                again = httpx.post(
                    f"{intake.url}/dossiers", json=BIRTH_GROUP, headers={"Idempotency-Key": key}, auth=counter, timeout=30
                )
                if again.status_code != 503:
                    break
            assert again.status_code == 201
            accepted.add(again.json()["id"])
        assert len(accepted) == BURST, "one dossier per submission, none lost, none doubled"
        for dossier_id in accepted:
            assert httpx.get(f"{intake.url}/dossiers/{dossier_id}", auth=counter, timeout=10).status_code == 200
    finally:
        intake.stop()
