"""HES command wire forms: the EndDeviceControls request, replies and relay events read back, the
JSON callback forms with their refusals, and the pacer's rate."""

from __future__ import annotations

import pytest
from defusedxml.ElementTree import fromstring

from integrations.canonical import ParseError
from integrations.cim import end_device_controls as edc
from integrations.hes.commands import Command, HttpHesClient, Pacer, json_message
from integrations.hes.replies import Outcome, read_callback

NS = {"m": edc.MESSAGE_NS, "c": edc.EDC_NS}


def test_the_request_is_a_create_with_the_control_type_and_the_meter_by_mrid_and_name() -> None:
    body = edc.request_message(
        command_id="C-9", action="disconnect", meter="SM1", timestamp="2026-12-02T10:00:00+05:30",
        reply_address="http://cmdms/api/v1/hes/callbacks",
    )  # fmt: skip
    root = fromstring(body)
    assert root.findtext("m:Header/m:Verb", namespaces=NS) == "create"
    assert root.findtext("m:Header/m:Noun", namespaces=NS) == "EndDeviceControls"
    assert root.findtext("m:Header/m:MessageID", namespaces=NS) == "C-9"
    assert root.findtext("m:Header/m:ReplyAddress", namespaces=NS) == "http://cmdms/api/v1/hes/callbacks"
    control = root.find("m:Payload/c:EndDeviceControls/c:EndDeviceControl", NS)
    assert control is not None
    assert control.find("c:EndDeviceControlType", NS).get("ref") == "3.31.0.23"
    assert control.findtext("c:EndDevices/c:mRID", namespaces=NS) == "SM1"
    assert control.findtext("c:EndDevices/c:Names/c:name", namespaces=NS) == "SM1"
    assert control.findtext("c:EndDevices/c:Names/c:NameType/c:name", namespaces=NS) == "MeterSerialNumber"


def test_a_hes_with_its_own_codes_gets_them() -> None:
    body = edc.request_message(
        command_id="C", action="connect", meter="M", timestamp="t", control_types={"connect": "3.31.0.42"}
    )
    assert b'<EndDeviceControlType ref="3.31.0.42"/>' in body
    assert b'<EndDeviceControlType ref="3.31.0.23"/>' in edc.request_message(
        command_id="C", action="disconnect", meter="M", timestamp="t", control_types={"connect": "3.31.0.42"}
    )
    with pytest.raises(ValueError, match="no EndDeviceControlType for action 'reboot'"):
        edc.request_message(command_id="C", action="reboot", meter="M", timestamp="t")


def test_replies_and_relay_events_read_back_in_both_forms() -> None:
    failed = edc.response_message(command_id="C-1", ok=False, timestamp="t", error_code="meter_offline")
    assert read_callback(failed, "application/xml") == [Outcome("C-1", "reply", False, "meter_offline")]
    event = edc.relay_events_message(
        command_id="C-1", meter="SM1", is_code=302, created="2026-12-02T10:00:00Z"
    )
    assert read_callback(event, "text/xml") == [
        Outcome("C-1", "relay_event", True, None, "SM1", "connected", "2026-12-02T10:00:00Z")
    ]
    assert read_callback(
        b'[{"command_id": "A", "status": "success", "relay": "connected"}]', "application/json"
    ) == [Outcome("A", "reply", True, None, None, "connected")]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"status": "success"}', "[0].command_id: required"),
        (b'{"command_id": "A", "status": "done"}', "[0].status: expected success or failed, got 'done'"),
        (b'{"event": {"meter": "M", "code": 101}}', "[0].event: needs meter and code 301 or 302"),
        (b"[1]", "[0]: expected an object"),
        (
            b'{"command_id": "A", "status": "success", "reading": {"kwh": "12"}}',
            "[0].reading.kwh: the kWh register as a number >= 0, got '12'",
        ),
        (
            b'[{"command_id": "A", "status": "success", "reading": {"kwh": -1}}]',
            "[0].reading.kwh: the kWh register as a number >= 0, got -1",
        ),
    ],
)
def test_json_callbacks_that_cannot_be_read_say_where(body: bytes, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        read_callback(body, "application/json")
    assert str(caught.value) == message


def test_a_read_reply_carries_its_kwh_register() -> None:
    body = b'{"command_id": "R-1", "status": "success", "reading": {"kwh": 1234.5}}'
    assert read_callback(body, "application/json") == [Outcome("R-1", "reply", True, register_kwh=1234.5)]
    assert (
        read_callback(b'{"command_id": "R-2", "status": "success"}', "application/json")[0].register_kwh
        is None
    )


def test_a_reply_with_no_command_id_is_refused() -> None:
    body = (
        f'<ResponseMessage xmlns="{edc.MESSAGE_NS}"><Header><Verb>reply</Verb><Noun>EndDeviceControls</Noun>'
        "</Header><Reply><Result>OK</Result></Reply></ResponseMessage>"
    ).encode()
    with pytest.raises(ParseError, match="no command id"):
        read_callback(body, "application/xml")


def test_the_json_form_is_stable_bytes() -> None:
    assert json_message(Command("C-1", "connect", "SM1"), None) == (
        b'{"action":"connect","command_id":"C-1","meter":"SM1"}'
    )
    client = HttpHesClient(
        "http://hes", "cim", callback_url="http://cb", clock=lambda: "2026-12-02T10:00:00Z"
    )
    message, content_type, url = client.encode(Command("C-1", "relay_status", "SM1"))
    assert (content_type, url) == ("application/xml", "http://hes/EndDeviceControls")
    assert b'ref="3.31.0.215"' in message


def test_the_pacer_holds_sends_to_the_rate() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        pacer.wait()
    assert slept == [0.25, 0.25, 0.25, 0.25]
    assert now[0] == 1.0
