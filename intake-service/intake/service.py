"""Intake's wiring: settings, catalogue (validated here, so a bad file stops the start), tables, API, consumers."""

from pathlib import Path

from intake.adapters.tables import messaging
from intake.domain.catalogue import load_catalogue
from intake.entrypoints import api, catalogue, consumers, lgsp, lookup
from intake.entrypoints.housekeeping import housekeeping
from intake.settings import IntakeSettings
from services.runtime import ServiceDefinition

load_catalogue(IntakeSettings().catalogue_path)

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
    subscriptions=consumers.subscriptions,
    routers=[api.router, lookup.router, catalogue.router, lgsp.router],
    workers=(housekeeping,),
)
