"""Routing's wiring: tables, API, consumers."""

from pathlib import Path

from routing.adapters.tables import messaging
from routing.entrypoints import api, consumers
from services.runtime import ServiceDefinition

definition = ServiceDefinition(
    name="routing",
    title="MotCua routing service",
    description="Liên thông: fixes each dossier's route and hands its steps to the competent agencies.",
    tables=messaging,
    migrations=Path(__file__).resolve().parent.parent / "migrations",
    subscriptions=consumers.subscriptions,
    routers=[api.router],
)
