"""Routing's wiring: settings, tables, APIs, consumers and the exchange workers."""

from pathlib import Path

from routing.adapters.tables import messaging
from routing.entrypoints import agency_api, api, consumers, lgsp_api, workers
from routing.settings import RoutingSettings
from services.runtime import ServiceDefinition

definition = ServiceDefinition(
    name="routing",
    title="MotCua routing service",
    description="Liên thông: fixes each dossier's route, hands its steps to the competent agencies (directly or through the LGSP), and keeps the national portal in step.",
    tables=messaging,
    migrations=Path(__file__).resolve().parent.parent / "migrations",
    settings_class=RoutingSettings,
    wire=lambda runtime: runtime,  # the runtime itself, until this service has wiring of its own
    subscriptions=consumers.subscriptions,
    routers=[api.router, api.admin, agency_api.router, lgsp_api.router],
    workers=(workers.deliver_steps, workers.sync_portal),
)
