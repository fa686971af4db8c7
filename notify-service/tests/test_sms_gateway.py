"""Reading an SMS gateway's answer, and shaping its request, from configuration; asking it, through
its status URL, whether it already took a request id (a real HTTP gateway on loopback)."""

from typing import Any

import pytest
from pydantic import ValidationError

from conftest import free_port
from notify.adapters.sms_gateway import HttpSmsGateway, classify, fill, known
from notify.application.ports import Outgoing
from notify.settings import NotifySettings

from .conftest import GATEWAY_PASSWORD, GATEWAY_USER, LoopbackGateway

ISSUER = "http://127.0.0.1:9/realms/motcua"  # required by every service's settings; never called here


def settings(**env: Any) -> NotifySettings:
    return NotifySettings.model_validate({"service_name": "notify", "OIDC_ISSUER": ISSUER, **env})


def test_the_request_shape_is_configuration_and_text_cannot_break_the_json() -> None:
    template = {
        "Brandname": "{brandname}",
        "Phone": "{phone}",
        "Message": "{text}",
        "RequestId": "{id}",
        "Meta": [{"k": "{id}"}],
        "Type": 2,
    }
    body = fill(template, {"brandname": "UBND", "phone": "0912345678", "text": 'a "quoted" {id}', "id": "n-1"})
    assert body == {
        "Brandname": "UBND",
        "Phone": "0912345678",
        "Message": 'a "quoted" n-1',
        "RequestId": "n-1",
        "Meta": [{"k": "n-1"}],
        "Type": 2,
    }


def test_answers_are_read_as_accepted_rejected_with_a_code_or_transient() -> None:
    s = NotifySettings.model_validate(
        {
            "service_name": "notify",
            "OIDC_ISSUER": "http://127.0.0.1:9/realms/motcua",
            "NOTIFY_SMS_RESULT_FIELD": "result.code",
            "NOTIFY_SMS_ACCEPTED_CODES": "100, 0",
            "NOTIFY_SMS_TRANSIENT_CODES": "99",
            "NOTIFY_SMS_MESSAGE_ID_FIELD": "result.smsid",
        }
    )
    accepted = classify(200, {"result": {"code": 100, "smsid": "abc"}}, s)
    assert accepted.status == "accepted" and accepted.provider_message_id == "abc"
    rejected = classify(200, {"result": {"code": "104"}, "message": "Brandname not registered"}, s)
    assert (rejected.status, rejected.code, rejected.detail) == ("rejected", "104", "Brandname not registered")
    assert classify(200, {"result": {"code": 99}}, s).status == "transient"
    assert classify(503, None, s).status == "transient" and classify(429, {}, s).status == "transient"
    refused = classify(401, {"result": {"code": "AUTH"}}, s)
    assert (refused.status, refused.code) == ("rejected", "AUTH")
    assert classify(200, "not json", s).status == "rejected"


def test_a_status_answer_says_whether_the_gateway_took_the_id_or_that_it_cannot_tell() -> None:
    s = settings(NOTIFY_SMS_RESULT_FIELD="result.code", NOTIFY_SMS_ACCEPTED_CODES="100, 0")
    assert known(200, {"result": {"code": 100, "status": "DELIVERED"}}, s) == "yes"
    assert known(200, {"result": {"code": "104"}}, s) == "no"  # it refused it: sending again gets the refusal
    assert known(404, {"result": {"code": "404"}}, s) == "no"
    assert known(503, None, s) == "unknown" and known(401, {}, s) == "unknown" and known(200, "not json", s) == "unknown"
    with pytest.raises(ValidationError, match="needs \\{id\\}"):
        settings(NOTIFY_SMS_STATUS_URL="http://gw.example.vn/status")


async def test_the_gateway_is_asked_through_its_status_url_whether_it_took_a_request_id(gateway: LoopbackGateway) -> None:
    configured = {
        "NOTIFY_SMS_GATEWAY_URL": gateway.url,
        "NOTIFY_SMS_USERNAME": GATEWAY_USER,
        "NOTIFY_SMS_PASSWORD": GATEWAY_PASSWORD,
    }
    notice = Outgoing(
        notice_id="n-status",
        idempotency_id="n-status.r1",
        dossier_id="d-1",
        trigger="dossier.received",
        channel="sms",
        recipient="0915000001",
        recipient_masked="091****001",
        body="Ho so da tiep nhan",
    )
    asking = HttpSmsGateway(settings(**configured, NOTIFY_SMS_STATUS_URL=gateway.status_url))
    without_url = HttpSmsGateway(settings(**configured))
    nobody_there = HttpSmsGateway(settings(**configured, NOTIFY_SMS_STATUS_URL=f"http://127.0.0.1:{free_port()}/s/{{id}}"))
    try:
        assert await asking.already_accepted(notice) == "no"
        assert (await asking.send(notice)).status == "accepted"
        assert await asking.already_accepted(notice) == "yes"
        assert gateway.status_queries == ["n-status.r1", "n-status.r1"]
        assert await without_url.already_accepted(notice) == "unknown"  # not asked: it cannot tell
        assert await nobody_there.already_accepted(notice) == "unknown"
        assert gateway.status_queries == ["n-status.r1", "n-status.r1"] and len(gateway.sent_to("0915000001")) == 1
    finally:
        for channel in (asking, without_url, nobody_there):
            await channel.close()
