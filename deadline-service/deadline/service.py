"""Deadline's wiring: tables, settings, API, consumers and the timer worker."""

from pathlib import Path

from deadline.adapters.tables import messaging
from deadline.entrypoints import api, consumers, reports
from deadline.settings import DeadlineSettings
from deadline.timers import timer_worker
from services.runtime import ServiceDefinition

definition = ServiceDefinition(
    name="deadline",
    title="MotCua deadline service",
    description="Thời hạn giải quyết: working-time due times of every dossier and step, warnings, overdue, apologies and the on-time report.",
    tables=messaging,
    migrations=Path(__file__).resolve().parent.parent / "migrations",
    settings_class=DeadlineSettings,
    wire=lambda runtime: runtime,  # the runtime itself, until this service has wiring of its own
    subscriptions=consumers.subscriptions,
    routers=[api.router, api.admin, reports.router],
    workers=[timer_worker(consumers.tracker_of)],
)
