"""Notify's wiring: tables, API, consumers, dispatcher."""

from pathlib import Path

from notify.adapters.tables import messaging
from notify.entrypoints import api, consumers
from notify.entrypoints.dispatcher import run_dispatcher
from notify.settings import NotifySettings
from services.runtime import ServiceDefinition

definition = ServiceDefinition(
    name="notify",
    title="MotCua notify service",
    description="Thông báo: SMS and e-mail notices to citizens and staff, once per notice.",
    tables=messaging,
    migrations=Path(__file__).resolve().parent.parent / "migrations",
    settings_class=NotifySettings,
    wire=lambda runtime: runtime,  # the runtime itself, until this service has wiring of its own
    subscriptions=consumers.subscriptions,
    routers=[api.router],
    workers=[run_dispatcher],
)
