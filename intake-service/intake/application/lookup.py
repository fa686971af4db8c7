"""Citizen look-up (tra cứu hồ sơ) by dossier code and the secret printed on the receipt, with a
per-client limit shared by every replica through the database. The citizen's rating
(`lifecycle.rate_dossier`) proves the same code and secret and counts against the same limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from intake.application.acting import acting_as, citizen
from intake.application.ports import IntakeUnitOfWork, IntakeWork
from intake.domain.dossier import mask_name, secret_matches, told_time, vietnam_time
from intake.domain.personal_data import ERASED_NAME
from intake.schemas import LookupEntry, LookupResult
from services.problems import Problem, not_found
from services.vocabulary import PortalStatus


@dataclass(frozen=True)
class LookupLimit:
    per_window: int
    window_seconds: int


class TooManyLookups(Exception):
    def __init__(self, limit: LookupLimit, retry_after: int) -> None:
        super().__init__(f"at most {limit.per_window} look-ups per {limit.window_seconds} s; retry in {retry_after} s")
        self.retry_after = retry_after


def no_such_dossier() -> Problem:
    """Whichever of the code and the secret is wrong: the answer does not say."""
    return not_found("no dossier with this code and look-up secret")


async def count_attempt(uow: IntakeUnitOfWork, limit: LookupLimit, client: str) -> None:
    """Count one attempt of the client's, before anything is read; `TooManyLookups` past the limit."""
    now = datetime.now(UTC)
    window = limit.window_seconds
    start = datetime.fromtimestamp(int(now.timestamp()) // window * window, UTC)
    async with uow() as work:
        count = await work.dossiers.count_lookup(client, start)
    if count > limit.per_window:
        raise TooManyLookups(limit, max(1, int((start + timedelta(seconds=window) - now).total_seconds() + 0.999)))


async def proven(work: IntakeWork, code: str, secret: str, *, lock: bool = False) -> dict[str, Any]:
    """The dossier with this code, if `secret` is its receipt's secret; 404 otherwise."""
    code = code.strip()
    row = await (work.dossiers.lock_by_code(code) if lock else work.dossiers.by_code(code))
    if row is None or not secret_matches(row["lookup_secret"], secret):
        raise no_such_dossier()
    return row


async def look_up(uow: IntakeUnitOfWork, limit: LookupLimit, client: str, code: str, secret: str) -> LookupResult:
    """The status, appointment and public timeline, each time also in Vietnam time; 404 whichever
    of code and secret is wrong; `TooManyLookups` past the client's limit. The read is audited as
    the citizen's."""
    await count_attempt(uow, limit, client)
    async with uow() as work:
        row = await proven(work, code, secret)
        entries = await work.dossiers.timeline(row["id"], public_only=True)
        with acting_as(citizen(row)):
            await work.audit.read("lookup", [str(row["id"])])
    current, returned = PortalStatus(row["status"]), row["returned_at"]
    return LookupResult(
        code=row["code"],
        procedure_name=row["procedure_name"],
        applicant=ERASED_NAME if row["applicant"].get("erased") else mask_name(row["applicant_name"]),
        status=current,
        status_label=current.label,
        received_at=row["received_at"],
        received_local=vietnam_time(row["received_at"]),
        received_text=told_time(row["received_at"]),
        appointment_at=row["appointment_at"],
        appointment_local=vietnam_time(row["appointment_at"]),
        appointment_text=told_time(row["appointment_at"]),
        returned_at=returned,
        returned_local=vietnam_time(returned) if returned else None,
        returned_text=told_time(returned) if returned else None,
        missing_items=missing_items(current, entries),
        rated=any(e["kind"] == "rated" for e in entries),
        timeline=[LookupEntry(at=e["at"], at_local=vietnam_time(e["at"]), label=e["label"]) for e in entries],
    )


def missing_items(status: PortalStatus, entries: list[dict[str, Any]]) -> list[str]:
    """What the citizen still has to bring while a supplement is asked: the latest request's items."""
    if status is not PortalStatus.SUPPLEMENT_REQUESTED:
        return []
    asked = [e for e in entries if e["kind"] == "supplement_requested"]
    return list((asked[-1]["detail"] or {}).get("items", [])) if asked else []
