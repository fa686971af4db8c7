"""The audit log (nhật ký): every exchange and every officer action, appended in the caller's
transaction and hash-chained. A transaction-scoped advisory lock makes appends one at a time,
so the chain never forks; the table's trigger refuses UPDATE and DELETE."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from routing.adapters.tables import audit_log
from routing.domain.exchange import GENESIS, chain_hash, first_broken

_LOCK = zlib.crc32(b"routing.audit_log")


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
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    previous = (await session.execute(select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1))).scalar() or GENESIS
    await session.execute(insert(audit_log).values(entry=entry, prev_hash=previous, hash=chain_hash(previous, entry)))


async def verify(session: AsyncSession) -> dict[str, Any]:
    rows = (
        await session.execute(
            select(audit_log.c.id, audit_log.c.entry, audit_log.c.prev_hash, audit_log.c.hash).order_by(audit_log.c.id)
        )
    ).all()
    broken = first_broken([(r.id, r.entry, r.prev_hash, r.hash) for r in rows])
    count = (await session.execute(select(func.count()).select_from(audit_log))).scalar_one()
    return {"records": count, "intact": broken is None, "first_broken_id": broken}
