"""Intake's settings, from the environment."""

from pathlib import Path

from pydantic import Field

from intake.adapters.catalogue_file import CATALOGUE_FILE
from intake.adapters.lgsp_clients import CLIENTS_FILE
from services.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    catalogue_path: Path = Field(CATALOGUE_FILE, validation_alias="INTAKE_CATALOGUE_PATH")
    code_pattern: str = Field("{unit}-{date:%y%m%d}-{seq:04d}", validation_alias="INTAKE_CODE_PATTERN")
    lookup_rate_limit: int = Field(
        20, ge=1, validation_alias="INTAKE_LOOKUP_RATE_LIMIT", description="Look-ups per client per window."
    )
    lookup_rate_window_s: int = Field(60, ge=1, validation_alias="INTAKE_LOOKUP_RATE_WINDOW_S")
    trusted_proxies: str = Field(
        "",
        validation_alias="INTAKE_TRUSTED_PROXIES",
        description="Comma-separated addresses whose X-Forwarded-For names the client.",
    )
    idempotency_ttl_hours: int = Field(
        72, ge=1, validation_alias="INTAKE_IDEMPOTENCY_TTL_HOURS", description="How long a key answers with its first result."
    )
    housekeeping_interval_s: int = Field(300, ge=1, validation_alias="INTAKE_HOUSEKEEPING_INTERVAL_S")
    public_base_url: str = Field("https://dichvucong.example.gov.vn", validation_alias="INTAKE_PUBLIC_BASE_URL")
    lgsp_clients_file: Path = Field(CLIENTS_FILE, validation_alias="INTAKE_LGSP_CLIENTS_FILE")
    inbound_max_skew_seconds: float = Field(
        300.0,
        gt=0,
        validation_alias="INBOUND_MAX_SKEW_SECONDS",
        description="How far a signed request's timestamp may be from now.",
    )
    retention_applicant_days: int = Field(
        183,
        ge=1,
        validation_alias="RETENTION_APPLICANT_DAYS",
        description="Days an applicant's personal data is kept after the procedure ended (result returned, withdrawn, refused).",
    )
    retention_idempotency_days: int = Field(
        2,
        ge=1,
        validation_alias="RETENTION_IDEMPOTENCY_DAYS",
        description="Days the first answer of an Idempotency-Key or LGSP nonce is kept (a later retry is refused, not replayed).",
    )
