"""Deadline's settings (environment variables)."""

from __future__ import annotations

from pydantic import Field, field_validator

from deadline.domain.clock import parse_thresholds
from services.settings import ServiceSettings


class DeadlineSettings(ServiceSettings):
    warning_thresholds: str = Field(
        "1-working-day,80-percent",
        validation_alias="DEADLINE_WARNING_THRESHOLDS",
        description="Comma-separated: N-working-day(s), N-working-hour(s), P-percent (of the budget used).",
    )
    tick_interval_ms: int = Field(
        5000, validation_alias="DEADLINE_TICK_INTERVAL_MS", description="How often the timer worker wakes."
    )
    tick_batch: int = Field(500, validation_alias="DEADLINE_TICK_BATCH", description="Timers claimed per transaction.")
    apology_min_extension_hours: float = Field(
        8.0,
        validation_alias="DEADLINE_APOLOGY_MIN_EXTENSION_HOURS",
        description="Least working time an apology's new date gives.",
    )

    @field_validator("warning_thresholds")
    @classmethod
    def _valid_thresholds(cls, value: str) -> str:
        parse_thresholds(value)
        return value
