"""Routing's wiring: settings, the agencies (validated here, so a bad file stops the start), the
working calendar, the unit of work over its repository, outbox and parking, and the
service's routes, consumers and exchange workers."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from routing.adapters.agencies import load_agencies
from routing.adapters.personal_data import SEALED_COLUMNS, RoutingHolder, retention_rules
from routing.adapters.repository import RoutingRepository
from routing.adapters.tables import messaging, parked_events
from routing.application.exchange import RetryPolicy
from routing.application.ports import Partners, RoutingWork
from routing.entrypoints import actions, admin, consumers, inbox, lgsp, metrics, routes, workers
from routing.settings import RoutingSettings
from services.calendar import working_calendar
from services.messaging.parking import Parking
from services.runtime import Runtime, ServiceDefinition
from services.unit_of_work import Transactions


class Routing:
    """What routing's routes, consumers and workers are given; built once per process."""

    def __init__(self, runtime: Runtime[RoutingSettings, Routing]) -> None:
        self.settings = settings = runtime.settings
        self.agencies = load_agencies(settings.agencies_file)
        self.calendar = working_calendar()
        self.retry = RetryPolicy(
            max_attempts=settings.exchange_max_attempts,
            backoff_base_seconds=settings.exchange_backoff_base_seconds,
            backoff_cap_seconds=settings.exchange_backoff_cap_seconds,
            # an attempt may take a timeout per call (token, then the step), and the process may die mid-attempt
            lease_seconds=settings.exchange_timeout_seconds * 3 + 5,
            breaker_reset_seconds=settings.breaker_reset_seconds,
        )
        partners = Partners(self.agencies, portal=bool(settings.portal_url))
        self.outbox = outbox = runtime.outbox
        self.keys = keys = runtime.keys
        self.holder = RoutingHolder(keys)  # the applicant's name, for the citizen's export or erasure requests
        parking = Parking(parked_events)

        def bind(session: AsyncSession) -> RoutingWork:
            return RoutingWork(
                RoutingRepository(session, keys), outbox.bind(session), partners, runtime.audit(session), parking.bind(session)
            )

        self.uow = Transactions(runtime.sessionmaker, bind)


definition = ServiceDefinition(
    name="routing",
    title="MotCua routing service",
    description="Liên thông: fixes each dossier's route, hands its steps to the competent agencies (directly or through the LGSP), and keeps the national portal in step.",
    tables=messaging,
    migrations=Path(__file__).resolve().parent.parent / "migrations",
    settings_class=RoutingSettings,
    wire=Routing,
    subscriptions=consumers.subscriptions,
    routers=[routes.router, admin.router, inbox.router, actions.router, lgsp.router],
    workers=(workers.deliver_steps, workers.sync_portal, workers.housekeeping),
    scrape=metrics.scrape,
    sealed_columns=SEALED_COLUMNS,
    retention=lambda settings: retention_rules(settings.retention_applicant_days),
)
