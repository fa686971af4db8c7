"""Deadline's wiring: settings, the rules the clock runs by (working-time calendar, warning
thresholds), the unit of work over its repository, outbox and parking, and the service's routes,
consumer and timer worker."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from deadline.adapters.repository import DeadlineRepository
from deadline.adapters.tables import messaging, parked_events
from deadline.application.ports import DeadlineWork, EventWork
from deadline.domain.clock import ClockRules, parse_thresholds
from deadline.entrypoints import api, consumers, metrics, reports, workers
from deadline.settings import DeadlineSettings
from services.calendar import working_calendar
from services.messaging.parking import Parking
from services.runtime import Runtime, ServiceDefinition
from services.unit_of_work import Transactions


class Deadline:
    """What deadline's routes, consumer and worker are given; built once per process."""

    def __init__(self, runtime: Runtime[DeadlineSettings, Deadline]) -> None:
        self.settings = settings = runtime.settings
        self.rules = ClockRules(working_calendar(), parse_thresholds(settings.warning_thresholds))
        self.outbox = runtime.outbox
        self.keys = runtime.keys  # seals deadline's parts of the citizens' export requests
        self.audit = runtime.audit
        self.parking = Parking(parked_events)
        self.uow = Transactions(runtime.sessionmaker, self.bind)

    def bind(self, session: AsyncSession) -> DeadlineWork:
        return DeadlineWork(
            DeadlineRepository(session), self.outbox.bind(session), self.parking.bind(session), self.audit(session)
        )

    def bind_events(self, session: AsyncSession) -> EventWork:
        """The consumer's transaction as its handlers work with it, with the clock's rules."""
        return EventWork(
            DeadlineRepository(session),
            self.outbox.bind(session),
            self.parking.bind(session),
            self.audit(session),
            self.rules,
        )


definition = ServiceDefinition(
    name="deadline",
    title="MotCua deadline service",
    description="Thời hạn giải quyết: working-time due times of every dossier and step, warnings, overdue, apologies and the on-time report.",
    tables=messaging,
    migrations=Path(__file__).resolve().parent.parent / "migrations",
    settings_class=DeadlineSettings,
    wire=Deadline,
    subscriptions=consumers.subscriptions,
    routers=[api.router, api.admin, reports.router],
    workers=(workers.timer_worker,),
    scrape=metrics.scrape,
)
