"""The personal data deadline holds (Decree 13/2023/NĐ-CP): none. Deadline keeps a dossier's code,
procedure, receiving unit, route and times; `dossier.received` no longer carries the applicant to
it, and the contact it used to carry was never stored. It still answers every citizen's export or
erasure request (with no records), so intake sees each service's answer and the operator reads
deadline's part as empty rather than missing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.personal_data.requests import Held


class DeadlineHolder:
    """Nothing about the applicant: an export lists nothing, an erasure erases nothing."""

    async def export(self, session: AsyncSession, dossier_id: str) -> Held:
        return {}

    async def erase(self, session: AsyncSession, dossier_id: str) -> int:
        return 0
