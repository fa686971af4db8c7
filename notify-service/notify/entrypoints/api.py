"""Notify's REST API (read side for now): the delivery log of a dossier."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from notify.adapters.tables import notices
from services.web import RuntimeDep

router = APIRouter(prefix="/dossiers", tags=["notices"])


class NoticePublic(BaseModel):
    id: UUID
    trigger: str
    channel: str
    recipient_masked: str
    body: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None


@router.get("/{dossier_id}/notices", response_model=list[NoticePublic], summary="Delivery log of a dossier's notices")
async def get_notices(dossier_id: UUID, runtime: RuntimeDep) -> list[NoticePublic]:
    async with runtime.sessionmaker() as session:
        rows = (
            await session.execute(select(notices).where(notices.c.dossier_id == dossier_id).order_by(notices.c.created_at))
        ).mappings().all()
    return [NoticePublic.model_validate(dict(r)) for r in rows]
