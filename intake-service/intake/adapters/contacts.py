"""The applicant's contact, for notify alone: sealed under the contact keys intake and notify share
(`CONTACT_KEYS`) and written to the outbox for intake's private `contacts` stream, in the receipt's
transaction, so routing and deadline never receive a phone number or an e-mail address."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.events.schemas import ContactGiven, SealedContact
from services.messaging.outbox import Outbox
from services.personal_data.keys import KeyRing
from services.personal_data.rings import CONTACT_PURPOSE


class OutboxContacts:
    def __init__(self, outbox: Outbox, session: AsyncSession, keys: KeyRing, topic: str) -> None:
        self.outbox = outbox
        self.session = session
        self.keys = keys
        self.topic = topic

    async def give(self, contact: SealedContact, *, dossier_id: str) -> None:
        sealed = self.keys.seal(contact.model_dump_json(), purpose=CONTACT_PURPOSE) or ""
        await self.outbox.emit(self.session, ContactGiven(contact=sealed), dossier_id=dossier_id, topic=self.topic)
