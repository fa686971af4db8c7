"""A channel that falls back to the console sink is not held to its gateway's rate limit (it was,
and capped the whole system at the SMS gateway's 10 messages a second with no gateway at all)."""

from pathlib import Path

from notify.adapters.channels import outlets_from
from notify.settings import NotifySettings

ISSUER = "http://127.0.0.1:9/realms/motcua"  # required by every service's settings; never called here


def settings(tmp_path: Path, **env: str) -> NotifySettings:
    return NotifySettings(service_name="notify", OIDC_ISSUER=ISSUER, NOTIFY_SINK_PATH=str(tmp_path / "sink.jsonl"), **env)


async def test_without_gateways_sms_and_email_share_the_console_sinks_limit(tmp_path: Path) -> None:
    s = settings(tmp_path, NOTIFY_SMS_RATE_PER_SECOND="10")
    outlets = outlets_from(s)
    assert outlets["sms"].limit is outlets["console"].limit and outlets["email"].limit is outlets["console"].limit
    assert outlets["sms"].quiet is None  # the console sink wakes nobody at night
    assert outlets.claim_limit(s.dispatch_batch, s.sending_lease_seconds) == s.dispatch_batch
    await outlets.close()


async def test_a_configured_gateway_keeps_its_own_rate_limit(tmp_path: Path) -> None:
    s = settings(tmp_path, NOTIFY_SMS_GATEWAY_URL="http://127.0.0.1:9/sms", NOTIFY_SMS_RATE_PER_SECOND="10")
    outlets = outlets_from(s)
    assert outlets["sms"].limit.per_second == 10 and outlets["sms"].limit is not outlets["console"].limit
    assert outlets["sms"].quiet == s.quiet and outlets["email"].quiet is None
    assert outlets.claim_limit(s.dispatch_batch, s.sending_lease_seconds) <= int(10 * s.sending_lease_seconds / 2)
    await outlets.close()
