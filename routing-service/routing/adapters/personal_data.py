"""The personal data routing holds (Decree 13/2023/NĐ-CP): the applicant's name, and nothing else
about the citizen. The national portal's record of a dossier names its holder (ChuHoSo), so routing
keeps the name from `dossier.received`, sealed in `routing.dossiers.applicant_name` under routing's
own key ring; the queued portal pushes hold no name, it is put in when a push is sent.

Here: the name's sealing purpose and column (for the background re-sealing after a key rotation),
the retention rule (the name is erased a while after the dossier ended), and the `Holder` that
answers a citizen's export or erasure request for one dossier."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from routing.domain.national import FINAL_PHASES
from services.db import driver_connection
from services.personal_data.keys import KeyRing
from services.personal_data.requests import Held
from services.personal_data.retention import RetentionRule
from services.personal_data.rotation import SealedColumn

APPLICANT_PURPOSE = "routing.dossiers.applicant_name"
APPLICANT_DATA_CLASS = "applicant_name"
SEALED_COLUMNS = [SealedColumn("routing.dossiers", "dossier_id", "applicant_name", APPLICANT_PURPOSE)]
ENDED = sorted(FINAL_PHASES)  # refused, withdrawn, delivered: the route is over

# `$1` the cut-off, `$2` the batch: the names of dossiers that ended before the cut-off.
ERASE_ENDED = f"""
UPDATE routing.dossiers SET applicant_name = NULL
 WHERE dossier_id IN (
   SELECT dossier_id FROM routing.dossiers
    WHERE applicant_name IS NOT NULL AND phase IN ({", ".join(f"'{p}'" for p in ENDED)}) AND updated_at < $1
    ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
RETURNING dossier_id::text AS dossier_id
"""


def seal_name(keys: KeyRing, name: str | None) -> str | None:
    return keys.seal(name, purpose=APPLICANT_PURPOSE) if name else None


def open_name(keys: KeyRing, value: str | None) -> str | None:
    return keys.open(value, purpose=APPLICANT_PURPOSE) if value else None


def opened(keys: KeyRing, row: dict[str, Any]) -> dict[str, Any]:
    """A `routing.dossiers` row with its applicant's name opened (None once erased)."""
    if "applicant_name" in row:
        row["applicant_name"] = open_name(keys, row["applicant_name"])
    return row


def retention_rules(applicant_days: int) -> Sequence[RetentionRule]:
    return [RetentionRule(APPLICANT_DATA_CLASS, timedelta(days=applicant_days), ERASE_ENDED)]


class RoutingHolder:
    """What routing holds about one dossier's applicant, for the citizen's rights (art. 14–16)."""

    def __init__(self, keys: KeyRing) -> None:
        self.keys = keys

    async def export(self, session: AsyncSession, dossier_id: str) -> Held:
        row = await (await driver_connection(session)).fetchrow(
            "SELECT dossier_code, applicant_name, phase FROM routing.dossiers WHERE dossier_id = $1", UUID(dossier_id)
        )
        if row is None or row["applicant_name"] is None:
            return {}
        record = {
            "dossier_code": row["dossier_code"],
            "applicant_name": open_name(self.keys, row["applicant_name"]),
            "purpose": "the national portal's record of the dossier (ChuHoSo)",
            "phase": row["phase"],
        }
        return {APPLICANT_DATA_CLASS: [record]}

    async def erase(self, session: AsyncSession, dossier_id: str) -> int:
        erased = await (await driver_connection(session)).fetch(
            "UPDATE routing.dossiers SET applicant_name = NULL WHERE dossier_id = $1 AND applicant_name IS NOT NULL "
            "RETURNING dossier_id",
            UUID(dossier_id),
        )
        return len(erased)
