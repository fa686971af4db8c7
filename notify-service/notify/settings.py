"""Notify's settings. With no SMS gateway or SMTP server configured, every notice goes to the
console/file sink, so `make run` needs no account."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from notify.domain.lookup_link import check_template
from notify.domain.quiet_hours import QuietHours
from notify.domain.sms_text import DEFAULT_FORBIDDEN, valid_brandname
from services.settings import ServiceSettings

CONFIG = Path(__file__).resolve().parent.parent / "config"


class NotifySettings(ServiceSettings):
    sink_path: Path = Field(Path(".run/notices.jsonl"), validation_alias="NOTIFY_SINK_PATH")
    dispatch_batch: int = Field(20, validation_alias="NOTIFY_DISPATCH_BATCH")
    dispatch_poll_ms: int = Field(200, validation_alias="NOTIFY_DISPATCH_POLL_MS")
    send_concurrency: int = Field(4, ge=1, validation_alias="NOTIFY_SEND_CONCURRENCY")
    sending_lease_seconds: int = Field(60, ge=1, validation_alias="NOTIFY_SENDING_LEASE_SECONDS")
    max_attempts: int = Field(8, ge=1, validation_alias="NOTIFY_MAX_ATTEMPTS")
    retry_base_seconds: float = Field(2.0, gt=0, validation_alias="NOTIFY_RETRY_BASE_SECONDS")
    retry_cap_seconds: float = Field(600.0, gt=0, validation_alias="NOTIFY_RETRY_CAP_SECONDS")
    lookup_url: str = Field(
        "https://dichvucong.example.gov.vn/tra-cuu?ma={code}&ms={secret}",
        validation_alias="NOTIFY_LOOKUP_URL",
        description="The citizen's look-up link: {code}, and {secret} (the receipt's look-up secret, given in the "
        "notice of receipt only; later notices leave out the parameter that holds it).",
    )
    quiet_hours: str = Field("21:00-07:00", validation_alias="NOTIFY_QUIET_HOURS", description="Vietnam time; empty for none.")
    agency_staff_file: Path = Field(CONFIG / "agency_staff.json", validation_alias="NOTIFY_AGENCY_STAFF_FILE")

    # Personal data (Decree 13/2023): how long notify keeps it (`notify.adapters.personal_data`).
    retention_notice_text_days: int = Field(
        30,
        ge=1,
        validation_alias="RETENTION_NOTICE_TEXT_DAYS",
        description="Days a notice's texts, form and recipient are kept once it is final (sent, delivered, failed, "
        "skipped); the delivery log keeps its status, times and masked recipient.",
    )
    retention_contact_days: int = Field(
        183,
        ge=1,
        validation_alias="RETENTION_CONTACT_DAYS",
        description="Days the applicant's contact is kept after the dossier ended (result returned, withdrawn, refused).",
    )
    retention_parked_event_days: int = Field(
        30,
        ge=1,
        validation_alias="RETENTION_PARKED_EVENT_DAYS",
        description="Days an event waits for the dossier's receipt and contact before it is dropped.",
    )

    # SMS brandname gateway (HTTP). No URL: SMS go to the console sink.
    sms_gateway_url: str | None = Field(None, validation_alias="NOTIFY_SMS_GATEWAY_URL")
    sms_username: str | None = Field(None, validation_alias="NOTIFY_SMS_USERNAME")
    sms_password: str | None = Field(None, validation_alias="NOTIFY_SMS_PASSWORD")
    sms_basic_auth: bool = Field(True, validation_alias="NOTIFY_SMS_BASIC_AUTH")
    sms_brandname: str = Field("MOTCUA", validation_alias="NOTIFY_SMS_BRANDNAME")
    sms_request_template: str = Field(
        '{"from": "{brandname}", "to": "{phone}", "text": "{text}", "request_id": "{id}"}',
        validation_alias="NOTIFY_SMS_REQUEST_TEMPLATE",
        description="JSON body; {brandname} {phone} {text} {id} {username} {password} are filled in.",
    )
    sms_status_url: str | None = Field(
        None,
        validation_alias="NOTIFY_SMS_STATUS_URL",
        description="Where the gateway answers whether it took a request id ({id} is filled in); asked for an SMS in "
        "doubt after a crash before it is sent again. Unset: it is sent again under the same id.",
    )
    sms_idempotency_header: str | None = Field("Idempotency-Key", validation_alias="NOTIFY_SMS_IDEMPOTENCY_HEADER")
    sms_result_field: str = Field("code", validation_alias="NOTIFY_SMS_RESULT_FIELD")
    sms_accepted_codes: str = Field("0", validation_alias="NOTIFY_SMS_ACCEPTED_CODES")
    sms_transient_codes: str = Field("", validation_alias="NOTIFY_SMS_TRANSIENT_CODES")
    sms_message_id_field: str = Field("message_id", validation_alias="NOTIFY_SMS_MESSAGE_ID_FIELD")
    sms_timeout_seconds: float = Field(10.0, gt=0, validation_alias="NOTIFY_SMS_TIMEOUT_SECONDS")
    sms_rate_per_second: float = Field(10.0, gt=0, validation_alias="NOTIFY_SMS_RATE_PER_SECOND")
    sms_max_chars: int = Field(160, ge=40, le=160, validation_alias="NOTIFY_SMS_MAX_CHARS")
    sms_forbidden_chars: str = Field(DEFAULT_FORBIDDEN, validation_alias="NOTIFY_SMS_FORBIDDEN_CHARS")
    sms_receipt_id_field: str = Field("request_id", validation_alias="NOTIFY_SMS_RECEIPT_ID_FIELD")
    sms_receipt_status_field: str = Field("status", validation_alias="NOTIFY_SMS_RECEIPT_STATUS_FIELD")
    sms_receipt_delivered: str = Field("DELIVERED", validation_alias="NOTIFY_SMS_RECEIPT_DELIVERED")
    sms_receipt_token: str | None = Field(
        None,
        validation_alias="NOTIFY_SMS_RECEIPT_TOKEN",
        description="The secret the gateway's delivery receipts carry; unset, every receipt is refused.",
    )

    # E-mail over SMTP. No host: e-mails go to the console sink.
    smtp_host: str | None = Field(None, validation_alias="NOTIFY_SMTP_HOST")
    smtp_port: int = Field(587, validation_alias="NOTIFY_SMTP_PORT")
    smtp_security: str = Field("starttls", pattern="^(starttls|tls|none)$", validation_alias="NOTIFY_SMTP_SECURITY")
    smtp_username: str | None = Field(None, validation_alias="NOTIFY_SMTP_USERNAME")
    smtp_password: str | None = Field(None, validation_alias="NOTIFY_SMTP_PASSWORD")
    smtp_ca_file: str | None = Field(None, validation_alias="NOTIFY_SMTP_CA_FILE")
    smtp_sender: str = Field("Một cửa điện tử <noreply@motcua.example.gov.vn>", validation_alias="NOTIFY_SMTP_SENDER")
    smtp_timeout_seconds: float = Field(20.0, gt=0, validation_alias="NOTIFY_SMTP_TIMEOUT_SECONDS")
    smtp_rate_per_second: float = Field(20.0, gt=0, validation_alias="NOTIFY_SMTP_RATE_PER_SECOND")

    @field_validator("sms_brandname")
    @classmethod
    def _brandname(cls, value: str) -> str:
        if not valid_brandname(value):
            raise ValueError("a brandname is 1-11 characters: letters, digits, space, dot, hyphen")
        return value

    @field_validator("sms_status_url")
    @classmethod
    def _status_url(cls, value: str | None) -> str | None:
        if value and "{id}" not in value:
            raise ValueError("the status URL needs {id}, where the request id goes")
        return value or None

    @field_validator("lookup_url")
    @classmethod
    def _lookup_url(cls, value: str) -> str:
        return check_template(value)

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        QuietHours.parse(value)
        return value

    @property
    def quiet(self) -> QuietHours | None:
        return QuietHours.parse(self.quiet_hours)
