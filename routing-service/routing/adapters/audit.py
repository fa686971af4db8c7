"""The audit log (nhật ký): every exchange and every officer action, appended in the caller's
transaction and hash-chained. A transaction-scoped advisory lock makes appends one at a time,
so the chain never forks; the table's trigger refuses UPDATE and DELETE."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from routing.adapters.tables import audit_log
from routing.application.ports import AuditCheck
from routing.domain.exchange import GENESIS, chain_hash, first_broken
from services.db import driver_connection, insert_row

_LOCK = zlib.crc32(b"routing.audit_log")
_TAKE_TURN = "SELECT pg_advisory_xact_lock($1)"
_LAST_HASH = "SELECT hash FROM routing.audit_log ORDER BY id DESC LIMIT 1"


async def append(
    session: AsyncSession, kind: str, actor: str, *, dossier_id: Any = None, step_id: str | None = None, **detail: Any
) -> None:
    entry = {
        "at": datetime.now(UTC).isoformat(),
        "kind": kind,
        "actor": actor,
        "dossier_id": str(dossier_id) if dossier_id else None,
        "step_id": step_id,
        "detail": {k: v for k, v in detail.items() if v is not None},
    }
    driver = await driver_connection(session)
    await driver.execute(_TAKE_TURN, _LOCK)
    previous = await driver.fetchval(_LAST_HASH) or GENESIS
    await insert_row(session, audit_log, {"entry": entry, "prev_hash": previous, "hash": chain_hash(previous, entry)})


async def verify(session: AsyncSession) -> AuditCheck:
    rows = (
        await session.execute(
            select(audit_log.c.id, audit_log.c.entry, audit_log.c.prev_hash, audit_log.c.hash).order_by(audit_log.c.id)
        )
    ).all()
    broken = first_broken([(r.id, r.entry, r.prev_hash, r.hash) for r in rows])
    return AuditCheck(records=len(rows), intact=broken is None, first_broken_id=broken)
