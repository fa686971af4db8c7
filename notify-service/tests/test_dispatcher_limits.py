"""A channel that falls back to the console sink is not held to its gateway's rate limit (it was,
and capped the whole system at the SMS gateway's 10 messages a second with no gateway at all)."""

from pathlib import Path
from types import SimpleNamespace

from notify.entrypoints.dispatcher import Dispatcher
from notify.settings import NotifySettings


def dispatcher(tmp_path: Path, **env: str) -> Dispatcher:
    settings = NotifySettings(service_name="notify", NOTIFY_SINK_PATH=str(tmp_path / "sink.jsonl"), **env)
    return Dispatcher(SimpleNamespace(settings=settings))  # type: ignore[arg-type]


async def test_without_gateways_sms_and_email_share_the_console_sinks_limit(tmp_path: Path) -> None:
    d = dispatcher(tmp_path, NOTIFY_SMS_RATE_PER_SECOND="10")
    assert d.limits["sms"] is d.limits["console"] and d.limits["email"] is d.limits["console"]
    assert d.claim_limit() == d.settings.dispatch_batch
    await d.close()


async def test_a_configured_gateway_keeps_its_own_rate_limit(tmp_path: Path) -> None:
    d = dispatcher(tmp_path, NOTIFY_SMS_GATEWAY_URL="http://127.0.0.1:9/sms", NOTIFY_SMS_RATE_PER_SECOND="10")
    assert d.limits["sms"].per_second == 10 and d.limits["sms"] is not d.limits["console"]
    assert d.claim_limit() <= int(10 * d.settings.sending_lease_seconds / 2)
    await d.close()
