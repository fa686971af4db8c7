"""Reading an SMS gateway's answer, and shaping its request, from configuration."""

from notify.adapters.sms_gateway import classify, fill
from notify.settings import NotifySettings


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
