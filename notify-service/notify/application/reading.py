"""What staff and operators read: a dossier's delivery log, and notices by status (the failed
ones are notify's dead letters: they will not go out by themselves).

The delivery log names the citizen's phone and e-mail (masked) and what they were told: it is
read only within the caller's units (the query filters by the dossier's receiving unit; out of
scope is 404, as an unknown dossier), and every read is recorded in the audit trail with the
officer who read it, as is the operator's list of notices by status."""

from __future__ import annotations

from uuid import UUID

from notify.application.ports import NoticeStatus, NotifyUnitOfWork
from notify.schemas import NoticeEntry, NoticePublic
from services.identity import Scope
from services.problems import not_found


async def delivery_log(uow: NotifyUnitOfWork, dossier_id: UUID, scope: Scope) -> list[NoticePublic]:
    """Every notice of a dossier, oldest first."""
    async with uow() as work:  # committing: the audit row of the read is written with it
        rows = await work.notices.of_dossier(dossier_id, scope)
        if rows is None:
            raise not_found(f"no notices of dossier {dossier_id}")
        await work.audit.read("notices", [str(dossier_id)], notices=len(rows))
    return [NoticePublic.model_validate(row) for row in rows]


async def notices_with_status(uow: NotifyUnitOfWork, status: NoticeStatus, limit: int) -> list[NoticeEntry]:
    """The newest `limit` notices in a status (the operator's: recorded as a read of each dossier listed)."""
    async with uow() as work:
        rows = await work.notices.with_status(status, limit)
        await work.audit.read("notices", list(dict.fromkeys(str(row["dossier_id"]) for row in rows)), status=status)
    return [NoticeEntry.model_validate(row) for row in rows]
