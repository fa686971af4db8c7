"""The console's settings, read from the environment."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    http_host: str = Field("127.0.0.1", validation_alias="HTTP_HOST")
    http_port: int = Field(8005, validation_alias="HTTP_PORT")
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
    public_url: str = Field(
        "http://127.0.0.1:8005",
        validation_alias="WEB_PUBLIC_URL",
        description="Where browsers reach the console: sign-in redirects and the receipt's QR code point here.",
    )
    form_place: str = Field(
        "", validation_alias="WEB_FORM_PLACE", description="The place on the printed forms' date line ('Lâm Đồng, ngày …')."
    )
    oidc_issuer: str = Field(validation_alias="OIDC_ISSUER", min_length=1)
    oidc_audience: str = Field("motcua-api", validation_alias="OIDC_AUDIENCE")
    oidc_client_id: str = Field("motcua-console", validation_alias="WEB_OIDC_CLIENT_ID")
    session_key: str = Field(
        validation_alias="WEB_SESSION_KEY",
        min_length=32,
        description="Fernet key (urlsafe base64 of 32 bytes) that seals the session cookie; the same on every replica.",
    )
    session_idle_seconds: int = Field(
        1800, validation_alias="WEB_SESSION_IDLE_SECONDS", description="A session unused this long is over."
    )
    intake_url: str = Field("http://127.0.0.1:8001", validation_alias="INTAKE_URL")
    routing_url: str = Field("http://127.0.0.1:8002", validation_alias="ROUTING_URL")
    deadline_url: str = Field("http://127.0.0.1:8003", validation_alias="DEADLINE_URL")
    notify_url: str = Field("http://127.0.0.1:8004", validation_alias="NOTIFY_URL")

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")
