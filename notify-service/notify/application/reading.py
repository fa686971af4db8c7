"""What staff and operators read: a dossier's delivery log, and notices by status (the failed
ones are notify's dead letters: they will not go out by themselves)."""

from __future__ import annotations

from uuid import UUID

from notify.application.ports import NoticeStatus, NotifyUnitOfWork
from notify.schemas import NoticeEntry, NoticePublic


async def delivery_log(uow: NotifyUnitOfWork, dossier_id: UUID) -> list[NoticePublic]:
    """Every notice of a dossier, oldest first."""
    async with uow.read() as work:
        return [NoticePublic.model_validate(row) for row in await work.notices.of_dossier(dossier_id)]


async def notices_with_status(uow: NotifyUnitOfWork, status: NoticeStatus, limit: int) -> list[NoticeEntry]:
    """The newest `limit` notices in a status."""
    async with uow.read() as work:
        return [NoticeEntry.model_validate(row) for row in await work.notices.with_status(status, limit)]
