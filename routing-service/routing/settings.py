"""Routing's settings: the shared ones plus agencies, the LGSP and the national portal. Callers'
tokens come from the identity provider (OIDC_ISSUER, in the shared settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.settings import ServiceSettings

DEFAULT_AGENCIES = Path(__file__).resolve().parent.parent / "agencies.json"


class RoutingSettings(ServiceSettings):
    agencies_file: Path = Field(DEFAULT_AGENCIES, validation_alias="ROUTING_AGENCIES_FILE")
    # Outbound over the LGSP (OAuth2 client credentials at the LGSP's token endpoint).
    lgsp_token_url: str | None = Field(None, validation_alias="LGSP_TOKEN_URL")
    lgsp_client_id: str | None = Field(None, validation_alias="LGSP_CLIENT_ID")
    lgsp_client_secret: str | None = Field(None, validation_alias="LGSP_CLIENT_SECRET")
    exchange_timeout_seconds: float = Field(5.0, validation_alias="EXCHANGE_TIMEOUT_SECONDS")
    exchange_max_attempts: int = Field(10, validation_alias="EXCHANGE_MAX_ATTEMPTS")
    exchange_backoff_base_seconds: float = Field(0.5, validation_alias="EXCHANGE_BACKOFF_BASE_SECONDS")
    exchange_backoff_cap_seconds: float = Field(60.0, validation_alias="EXCHANGE_BACKOFF_CAP_SECONDS")
    breaker_threshold: int = Field(3, validation_alias="BREAKER_THRESHOLD")
    breaker_reset_seconds: float = Field(5.0, validation_alias="BREAKER_RESET_SECONDS")
    exchange_poll_seconds: float = Field(0.5, validation_alias="EXCHANGE_POLL_SECONDS")
    # Inbound from the LGSP: signed requests older (or newer) than this are refused.
    inbound_max_skew_seconds: int = Field(300, validation_alias="INBOUND_MAX_SKEW_SECONDS")
    # The national portal (DVCQG): sync is off when no URL is set.
    portal_url: str | None = Field(None, validation_alias="NATIONAL_PORTAL_URL")
    portal_token: str | None = Field(None, validation_alias="NATIONAL_PORTAL_TOKEN")
    portal_reconcile_seconds: float = Field(60.0, validation_alias="NATIONAL_PORTAL_RECONCILE_SECONDS")
    # Decree 13/2023: the applicant's name (for the portal's ChuHoSo) is erased this long after the
    # dossier ended (refused, withdrawn or its result delivered).
    retention_applicant_days: int = Field(
        183,
        gt=0,
        validation_alias="RETENTION_APPLICANT_DAYS",
        description="Days the applicant's name is kept after the dossier ended (refused, withdrawn, result delivered).",
    )
