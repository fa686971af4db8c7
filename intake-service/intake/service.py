"""Intake's wiring: settings, catalogue (validated here, so a bad file stops the start), the unit
of work over its repository and outbox, and the service's routes, consumers and workers."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters.catalogue_file import load_catalogue
from intake.adapters.lgsp_clients import load_clients
from intake.adapters.repository import IntakeRepository
from intake.adapters.tables import messaging
from intake.application.lookup import LookupLimit
from intake.application.ports import IntakeWork
from intake.entrypoints import api, catalogue, consumers, lgsp, lifecycle, lookup, workers
from intake.settings import IntakeSettings
from services.calendar import working_calendar
from services.runtime import Runtime, ServiceDefinition
from services.unit_of_work import Transactions


class Intake:
    """What intake's routes, consumers and workers are given; built once per process."""

    def __init__(self, runtime: Runtime[IntakeSettings, Intake]) -> None:
        self.settings = settings = runtime.settings
        self.catalogue = load_catalogue(settings.catalogue_path)
        self.calendar = working_calendar()
        self.lgsp_clients = load_clients(settings.lgsp_clients_file)
        self.lookup_limit = LookupLimit(settings.lookup_rate_limit, settings.lookup_rate_window_s)
        outbox = runtime.outbox

        def bind(session: AsyncSession) -> IntakeWork:
            return IntakeWork(IntakeRepository(session), outbox.bind(session), runtime.audit(session))

        self.uow = Transactions(runtime.sessionmaker, bind)


definition = ServiceDefinition(
    name="intake",
    title="MotCua intake service",
    description=(
        "Tiếp nhận hồ sơ: receives dossiers at the counter, online and by post; issues the receipt and appointment (form 1); "
        "supplement requests (form 2), refusals (form 3), withdrawals, results returned, ratings; "
        "the citizen look-up and staff search; dossiers filed elsewhere, posted through the LGSP (signed)."
    ),
    tables=messaging,
    migrations=Path(__file__).resolve().parent.parent / "migrations",
    settings_class=IntakeSettings,
    wire=Intake,
    subscriptions=consumers.subscriptions,
    routers=[api.router, lifecycle.router, lookup.router, catalogue.router, lgsp.router],
    workers=(workers.housekeeping,),
)
