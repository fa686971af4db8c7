"""Intake's wiring: tables, API, consumers."""

from pathlib import Path

from intake.adapters.tables import messaging
from intake.entrypoints import api, consumers
from services.runtime import ServiceDefinition

definition = ServiceDefinition(
    name="intake",
    title="MotCua intake service",
    description="Tiếp nhận hồ sơ: receives dossiers at the counter, online and by post; issues the receipt and appointment.",
    tables=messaging,
    migrations=Path(__file__).resolve().parent.parent / "migrations",
    subscriptions=consumers.subscriptions,
    routers=[api.router],
)
