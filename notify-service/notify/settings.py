from pathlib import Path

from pydantic import Field

from services.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    sink_path: Path = Field(Path(".run/notices.jsonl"), validation_alias="NOTIFY_SINK_PATH")
    dispatch_batch: int = Field(50, validation_alias="NOTIFY_DISPATCH_BATCH")
    dispatch_poll_ms: int = Field(200, validation_alias="NOTIFY_DISPATCH_POLL_MS")
    sending_lease_seconds: int = Field(30, validation_alias="NOTIFY_SENDING_LEASE_SECONDS")
