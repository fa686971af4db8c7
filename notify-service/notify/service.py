"""Notify's wiring: settings, how notices are drafted (templates, look-up link, agency staff), the
unit of work over its repository, outbox and parked events, and the service's routes, consumer
and dispatcher."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.channels import outlets_from
from notify.adapters.messages import Templates
from notify.adapters.personal_data import NotifyHolder, retention_rules
from notify.adapters.repository import NotifyRepository
from notify.adapters.staff import load_staff_directory
from notify.adapters.tables import SEALED, messaging, parked_events
from notify.application.dispatching import Outlets, Retries
from notify.application.ports import Drafting, Handling, NotifyWork
from notify.entrypoints import api, consumers, workers
from notify.settings import NotifySettings
from services.messaging.parking import Parking
from services.personal_data.rings import contact_ring
from services.runtime import Runtime, ServiceDefinition
from services.unit_of_work import Transactions

log = logging.getLogger(__name__)


class Notify:
    """What notify's routes, consumer and dispatcher are given; built once per process."""

    def __init__(self, runtime: Runtime[NotifySettings, Notify]) -> None:
        self.settings = settings = runtime.settings
        self.drafting = Drafting(
            Templates(settings.sms_max_chars, settings.sms_forbidden_chars),
            settings.lookup_url,
            load_staff_directory(settings.agency_staff_file),
        )
        if not settings.sms_receipt_token:
            log.warning("NOTIFY_SMS_RECEIPT_TOKEN is not set: the SMS gateway's delivery receipts will be refused")
        self.retries = Retries(settings.max_attempts, settings.retry_base_seconds, settings.retry_cap_seconds)
        outbox, parking, keys = runtime.outbox, Parking(parked_events), runtime.keys
        self.outbox, self.keys = outbox, keys
        self.contact_keys = contact_ring("notify")  # what intake seals the contacts it sends with
        self.holder = NotifyHolder(keys)

        def bind(session: AsyncSession) -> NotifyWork:
            repository = NotifyRepository(session, keys)
            return NotifyWork(repository, outbox.bind(session), parking.bind(session), runtime.audit(session))

        self.uow = Transactions(runtime.sessionmaker, bind)

    def handling(self, session: AsyncSession) -> Handling:
        """What the consumer's handlers work with, in the consumer's transaction."""
        return Handling(self.uow.bind(session), self.drafting, self.contact_keys)

    def outlets(self) -> Outlets:
        """The channels the dispatcher sends through (closed when it stops)."""
        return outlets_from(self.settings)


definition = ServiceDefinition(
    name="notify",
    title="MotCua notify service",
    description="Thông báo: SMS and e-mail notices to citizens and staff, once per notice.",
    tables=messaging,
    migrations=Path(__file__).resolve().parent.parent / "migrations",
    settings_class=NotifySettings,
    wire=Notify,
    subscriptions=consumers.subscriptions,
    routers=[api.router],
    workers=(workers.dispatcher,),
    sealed_columns=SEALED,
    retention=retention_rules,
)
