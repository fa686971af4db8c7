"""Citizen look-up (tra cứu hồ sơ) by dossier code and the secret printed on the receipt."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import delete, select, text

from intake.adapters import repository
from intake.adapters.tables import dossiers, lookup_attempts
from intake.domain.dossier import STATUS_LABELS_VI, PortalStatus, mask_name
from intake.entrypoints.schemas import LookupEntry, LookupIn, LookupResult
from services.problems import Problem, problem_response
from services.web import RuntimeDep

router = APIRouter(prefix="/lookup", tags=["citizen look-up"])


def client_of(request: Request, trusted_proxies: str) -> str:
    """The caller's address; behind a trusted reverse proxy, the last address it appended."""
    peer = request.client.host if request.client else "unknown"
    if peer in {p.strip() for p in trusted_proxies.split(",") if p.strip()}:
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1][:100]
    return peer[:100]


async def _count_attempt(runtime: Any, client: str) -> tuple[int, int]:
    """Count this attempt in the client's fixed window (shared by every replica through the
    database); returns the count so far and the seconds left in the window."""
    window = runtime.settings.lookup_rate_window_s
    now = datetime.now(UTC)
    start = datetime.fromtimestamp(int(now.timestamp()) // window * window, UTC)
    async with runtime.sessionmaker() as session, session.begin():
        count = (
            await session.execute(
                text(
                    "INSERT INTO intake.lookup_attempts (client, window_start, count) VALUES (:client, :start, 1) "
                    "ON CONFLICT (client, window_start) DO UPDATE SET count = lookup_attempts.count + 1 RETURNING count"
                ),
                {"client": client, "start": start},
            )
        ).scalar_one()
        if count == 1:
            await session.execute(
                delete(lookup_attempts).where(lookup_attempts.c.client == client, lookup_attempts.c.window_start < start)
            )
    return count, max(1, int((start + timedelta(seconds=window) - now).total_seconds() + 0.999))


@router.post(
    "",
    response_model=LookupResult,
    summary="Where is my dossier: status, appointment and timeline, by dossier code and secret",
    responses={
        404: {"description": "No dossier with this code and secret (which of the two is wrong is not said)."},
        429: {"description": "Too many look-ups from this client; retry after `Retry-After` seconds."},
    },
)
async def look_up(body: LookupIn, request: Request, runtime: RuntimeDep) -> Any:
    count, retry_after = await _count_attempt(runtime, client_of(request, runtime.settings.trusted_proxies))
    settings = runtime.settings
    if count > settings.lookup_rate_limit:
        return problem_response(
            429,
            "Too many look-ups",
            f"at most {settings.lookup_rate_limit} look-ups per {settings.lookup_rate_window_s} s; retry in {retry_after} s",
            type="rate-limited",
            instance=request.url.path,
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )
    async with runtime.sessionmaker() as session:
        row = (await session.execute(select(dossiers).where(dossiers.c.code == body.code.strip()))).mappings().first()
        if row is None or not secrets.compare_digest(row["lookup_secret"].encode(), body.secret.strip().upper().encode()):
            raise Problem(404, "Not found", "no dossier with this code and look-up secret", type="not-found")
        entries = await repository.read_timeline(session, row["id"], public_only=True)
    current = PortalStatus(row["status"])
    return LookupResult(
        code=row["code"],
        procedure_name=row["procedure_name"],
        applicant=mask_name(row["applicant_name"]),
        status=current,
        status_label=STATUS_LABELS_VI[current],
        received_at=row["received_at"],
        appointment_at=row["appointment_at"],
        returned_at=row["returned_at"],
        timeline=[LookupEntry(at=e["at"], label=e["label"]) for e in entries],
    )
