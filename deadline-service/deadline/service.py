"""Deadline's wiring: tables, API, consumers."""

from pathlib import Path

from deadline.adapters.tables import messaging
from deadline.entrypoints import api, consumers
from services.runtime import ServiceDefinition

definition = ServiceDefinition(
    name="deadline",
    title="MotCua deadline service",
    description="Thời hạn giải quyết: working-time due times of every dossier and step.",
    tables=messaging,
    migrations=Path(__file__).resolve().parent.parent / "migrations",
    subscriptions=consumers.subscriptions,
    routers=[api.router],
)
