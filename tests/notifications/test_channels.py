"""Each channel adapter against its stand-in: receipts, and retryable vs permanent errors."""

from __future__ import annotations

import pytest

from notifications.channels import InvalidDeviceToken, PermanentSendError, RetryableSendError, to_e164
from notifications.push_fcm import FcmPush
from notifications.sms_http import HttpGatewaySms
from notifications.sms_twilio import TwilioSms
from tests.notifications.conftest import ACCOUNT_SID, AUTH_TOKEN, FCM_PROJECT, FCM_TOKEN
from tests.notifications.standins import DltGatewayStandIn, FcmStandIn, TwilioStandIn

TOKEN = "fcm-registration-token-0001-abcdefghijklmnop"


@pytest.fixture
def sms(twilio: TwilioStandIn) -> TwilioSms:
    return TwilioSms(ACCOUNT_SID, AUTH_TOKEN, "+15005550006", base_url=twilio.url)


@pytest.fixture
def push(fcm: FcmStandIn):
    sender = FcmPush(FCM_PROJECT, access_token=FCM_TOKEN, fcm_url=fcm.send_url)
    yield sender
    sender.close()


@pytest.mark.parametrize(
    ("mobile", "e164"),
    [
        ("9826012345", "+919826012345"),
        ("09826012345", "+919826012345"),
        ("919826012345", "+919826012345"),
        ("+1 415 555 0100", "+14155550100"),
    ],
)
def test_indian_mobile_numbers_become_e164(mobile, e164):
    assert to_e164(mobile) == e164


def test_twilio_send_returns_the_message_sid(sms, twilio):
    receipt = sms.send("9826012345", "hello", None)
    assert (receipt.provider, receipt.status) == ("twilio", "queued")
    assert receipt.provider_id == twilio.messages[0]["sid"]
    assert twilio.messages[0]["From"] == "+15005550006"


def test_twilio_invalid_number_is_permanent(sms, twilio):
    twilio.invalid_numbers.add("+919000000000")
    with pytest.raises(PermanentSendError) as caught:
        sms.send("9000000000", "hello", None)
    assert caught.value.code == "twilio_21211"


@pytest.mark.parametrize("status", [500, 503, 429])
def test_twilio_server_errors_are_retryable(sms, twilio, status):
    twilio.fail_next = [status]
    with pytest.raises(RetryableSendError):
        sms.send("9826012345", "hello", None)
    assert sms.send("9826012345", "hello", None).provider_id == twilio.messages[0]["sid"]


def test_twilio_wrong_credentials_are_permanent(twilio):
    sender = TwilioSms(ACCOUNT_SID, "wrong-token", "+15005550006", base_url=twilio.url)
    with pytest.raises(PermanentSendError, match="twilio_20003"):
        sender.send("9826012345", "hello", None)


def test_twilio_unreachable_is_retryable():
    stopped = TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN)
    url = stopped.url
    stopped.stop()
    sender = TwilioSms(ACCOUNT_SID, AUTH_TOKEN, "+15005550006", base_url=url, timeout_seconds=2)
    with pytest.raises(RetryableSendError) as caught:
        sender.send("9826012345", "hello", None)
    assert caught.value.code == "network"


def test_fcm_send_returns_the_message_name(push, fcm):
    receipt = push.send(TOKEN, "Title", "Body", {"k": "v"})
    assert receipt.provider_id == f"projects/{FCM_PROJECT}/messages/1"
    assert fcm.messages[0]["data"] == {"k": "v"}


def test_fcm_unregistered_and_invalid_tokens_are_invalid_device_tokens(push, fcm):
    fcm.unregistered_tokens.add(TOKEN)
    with pytest.raises(InvalidDeviceToken) as unregistered:
        push.send(TOKEN, "T", "B", {})
    with pytest.raises(InvalidDeviceToken) as invalid:
        push.send("short", "T", "B", {})
    assert (unregistered.value.code, invalid.value.code) == ("UNREGISTERED", "INVALID_ARGUMENT")
    assert not unregistered.value.retryable


def test_fcm_unavailable_is_retryable_and_tried_once_per_send(push, fcm):
    fcm.down = True
    with pytest.raises(RetryableSendError):
        push.send(TOKEN, "T", "B", {})
    assert fcm.requests == 1  # the SDK's own 503 retries are off: the outbox owns retries


def test_dlt_gateway_sends_sender_and_template_ids():
    gateway = DltGatewayStandIn("CMDMSB", {"1107170000000000101"}).start()
    try:
        sender = HttpGatewaySms(f"{gateway.url}/sms", "CMDMSB", entity_id="1101000000000000001")
        receipt = sender.send("9826012345", "hello", "1107170000000000101")
        assert (receipt.provider, receipt.provider_id) == ("http", "dlt-1")
        assert gateway.messages[0] | {"message_id": ""} == {
            "message_id": "",
            "to": "919826012345",
            "text": "hello",
            "sender": "CMDMSB",
            "dlt_template_id": "1107170000000000101",
            "dlt_entity_id": "1101000000000000001",
        }
        with pytest.raises(PermanentSendError, match="not registered"):
            sender.send("9826012345", "hello", "999")
        with pytest.raises(PermanentSendError, match="dlt_template_missing"):
            sender.send("9826012345", "hello", None)
        gateway.fail_next = [503]
        with pytest.raises(RetryableSendError, match="http_503"):
            sender.send("9826012345", "hello", "1107170000000000101")
    finally:
        gateway.stop()
