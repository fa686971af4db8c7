"""Citizen look-up (tra cứu hồ sơ) by dossier code and the secret printed on the receipt, with a
per-client limit shared by every replica through the database."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from intake.application.ports import IntakeUnitOfWork
from intake.domain.dossier import mask_name
from intake.schemas import LookupEntry, LookupResult
from services.problems import not_found
from services.vocabulary import PortalStatus


@dataclass(frozen=True)
class LookupLimit:
    per_window: int
    window_seconds: int


class TooManyLookups(Exception):
    def __init__(self, limit: LookupLimit, retry_after: int) -> None:
        super().__init__(f"at most {limit.per_window} look-ups per {limit.window_seconds} s; retry in {retry_after} s")
        self.retry_after = retry_after


async def look_up(uow: IntakeUnitOfWork, limit: LookupLimit, client: str, code: str, secret: str) -> LookupResult:
    """The status, appointment and public timeline; 404 whichever of code and secret is wrong;
    `TooManyLookups` past the client's limit (counted before anything is read)."""
    now = datetime.now(UTC)
    window = limit.window_seconds
    start = datetime.fromtimestamp(int(now.timestamp()) // window * window, UTC)
    async with uow() as work:
        count = await work.dossiers.count_lookup(client, start)
    if count > limit.per_window:
        raise TooManyLookups(limit, max(1, int((start + timedelta(seconds=window) - now).total_seconds() + 0.999)))
    async with uow.read() as work:
        row = await work.dossiers.by_code(code.strip())
        if row is None or not secrets.compare_digest(row["lookup_secret"].encode(), secret.strip().upper().encode()):
            raise not_found("no dossier with this code and look-up secret")
        entries = await work.dossiers.timeline(row["id"], public_only=True)
    current = PortalStatus(row["status"])
    return LookupResult(
        code=row["code"],
        procedure_name=row["procedure_name"],
        applicant=mask_name(row["applicant_name"]),
        status=current,
        status_label=current.label,
        received_at=row["received_at"],
        appointment_at=row["appointment_at"],
        returned_at=row["returned_at"],
        timeline=[LookupEntry(at=e["at"], label=e["label"]) for e in entries],
    )
