"""Every CIM message the project writes keeps the element order of the IEC 61968-9/-100 schemas.

The sequences below are the schemas' (MeterReadings.xsd, EndDeviceEvents.xsd,
EndDeviceControls.xsd, Message.xsd of 2011) in this test's own words: element -> its children in the order the schema allows. A
child out of order, or one the sequence does not have, fails with its path.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from defusedxml.ElementTree import fromstring

from integrations.cim import end_device_controls, simulator
from integrations.cim.reply import ReplyError, envelope, response_message
from integrations.simulation import SimMeter, simulate_day
from tests.integrations.conftest import sample

_NAMED = ("mRID", "Names")
SEQUENCES: dict[str, tuple[str, ...]] = {
    # 61968-100 message envelope
    "EventMessage": ("Header", "Payload"),
    "RequestMessage": ("Header", "Request", "Payload"),
    "ResponseMessage": ("Header", "Reply", "Payload"),
    "MeterReadingsResponseMessage": ("Header", "Reply", "Payload"),
    "EndDeviceEventsResponseMessage": ("Header", "Reply", "Payload"),
    "Envelope": ("Header", "Body"),  # SOAP 1.1 and 1.2
    "Header": (
        "Verb", "Noun", "Revision", "ReplayDetection", "Context", "Timestamp", "Source", "AsyncReplyFlag",
        "ReplyAddress", "AckRequired", "User", "MessageID", "CorrelationID", "Comment", "Property",
    ),
    "Property": ("Name", "Value"),
    "Reply": ("Result", "Error", "ID", "operationId"),
    "Error": (
        "code", "level", "reason", "details", "xpath", "stackTrace", "Location", "ID", "relatedID", "object",
        "operationId",
    ),
    "object": ("mRID", "Name", "objectType"),
    "Payload": ("MeterReadings", "EndDeviceEvents", "EndDeviceControls", "OperationSet", "Compressed", "Format"),
    # 61968-9 MeterReadings
    "MeterReadings": (
        "EndDeviceEventType", "MeterReading", "ReadingQualityType", "ReadingType", "LoadProfile", "RegisterGroup",
    ),
    "MeterReading": (
        "isCoincidentTrigger", "EndDeviceEvents", "IntervalBlocks", "Meter", "Readings", "UsagePoint",
        "valuesInterval",
    ),
    "IntervalBlocks": ("IntervalReadings", "PendingCalculation", "ReadingType"),
    "IntervalReadings": ("reportedDateTime", "source", "timeStamp", "value", "ReadingQualities", "timePeriod"),
    "Readings": (
        "reason", "reportedDateTime", "source", "timeStamp", "value", "ReadingQualities", "ReadingType",
        "timePeriod",
    ),
    "ReadingQualities": ("comment", "source", "timeStamp", "ReadingQualityType"),
    "Meter": ("mRID", "serialNumber", "Names", "status"),
    "UsagePoint": _NAMED,
    "Names": ("name", "NameType"),
    "NameType": ("description", "name", "NameTypeAuthority"),
    # 61968-9 EndDeviceEvents
    "EndDeviceEvents": ("EndDeviceEvent", "EndDeviceEventType"),
    "EndDeviceEvent": (
        "mRID", "createdDateTime", "issuerID", "issuerTrackingID", "reason", "severity", "userID", "Assets",
        "EndDeviceEventDetails", "EndDeviceEventType", "Names", "status", "UsagePoint",
    ),
    "Assets": ("mRID", "serialNumber", "Names"),
    "EndDeviceEventDetails": ("name", "value"),
    "status": ("dateTime", "reason", "remark", "value"),
    # 61968-9 EndDeviceControls (the Pan* choice and the timings are never written by us)
    "EndDeviceControls": ("EndDeviceControl", "EndDeviceControlType"),
    "EndDeviceControl": (
        "mRID", "drProgramLevel", "drProgramMandatory", "issuerID", "issuerTrackingID", "priceSignal", "reason",
        "PanDemandResponse", "PanDisplay", "PanPricing", "scheduleStrategy", "EndDeviceControlType",
        "EndDeviceControlAttribute", "EndDeviceGroups", "EndDevices", "primaryDeviceTiming",
        "secondaryDeviceTiming", "UsagePointGroups", "UsagePoints",
    ),
    # Inside EndDeviceControl it is a bare reference (@ref); at the top the type with its codes.
    "EndDeviceControlType": ("mRID", "domain", "eventOrAction", "subDomain", "type", "Names"),
    "EndDeviceControlAttribute": ("name", "value"),
    "EndDevices": ("mRID", "serialNumber", "installCode", "isPan", "electronicAddress", "Names"),
}  # fmt: skip


def _local(tag: str) -> str:
    return tag[tag.rfind("}") + 1 :]


def order_violations(root: Any) -> Iterator[str]:
    """Each child that the parent's sequence does not allow at its place, as 'path: reason'."""
    stack = [(root, _local(root.tag))]
    while stack:
        element, path = stack.pop()
        sequence = SEQUENCES.get(_local(element.tag))
        last = -1
        for child in element:
            name = _local(child.tag)
            child_path = f"{path}/{name}"
            if sequence is not None:
                if name not in sequence:
                    yield f"{child_path}: not in the sequence of {_local(element.tag)}"
                elif sequence.index(name) < last:
                    yield f"{child_path}: after {sequence[last]}, which the schema puts later"
                else:
                    last = sequence.index(name)
            stack.append((child, child_path))


def check(document: bytes) -> list[str]:
    return list(order_violations(fromstring(document)))


def _days() -> list[Any]:
    return [
        simulate_day(SimMeter(f"S0000090{i}", phases=3, faults=("tamper_magnet",)), date(2026, 11, 26))
        for i in range(2)
    ]


def _reply(wrapper: str | None, soap: str | None) -> bytes:
    errors = [
        ReplyError(
            "rejected.ReadingType", "unknown reading type", "MeterReading[0]/IntervalBlocks[1]", meter="S1"
        ),
        ReplyError(
            "rejected.kwh", "not a number: 'x'", "MeterReading[0]/IntervalBlocks[0]/IntervalReadings[3]"
        ),
    ]
    document = response_message(
        noun="MeterReadings",
        result="PARTIAL",
        errors=errors,
        correlation_id="req-1",
        message_id="CMDMS-7",
        timestamp="2026-12-02T10:00:00+05:30",
        ids=[("ingest_batch", "7")],
        wrapper=wrapper,
    )
    return envelope(document, soap)


def written_messages() -> list[tuple[str, bytes]]:
    """Every CIM document the project writes: simulators and replies (HES commands join here)."""
    days = _days()
    return [
        ("reply", _reply(None, None)),
        ("reply in SOAP 1.2", _reply(None, "1.2")),
        ("reply as WSDL wrapper in SOAP 1.1", _reply("MeterReadingsResponseMessage", "1.1")),
        ("simulator meter readings", simulator.meter_readings_message(days)),
        ("simulator meter readings, no registers", simulator.meter_readings_message(days, registers=False)),
        ("simulator end device events", simulator.end_device_events_message(days)),
        ("sample meter readings", sample("cim_meter_readings.xml")),
        ("sample end device events", sample("cim_end_device_events.xml")),
        *[
            (f"HES command {action}", end_device_controls.request_message(
                command_id="C-1", action=action, meter="S00000901", timestamp="2026-12-02T10:00:00+05:30",
                reply_address="http://127.0.0.1/api/v1/hes/callbacks", reason="dues",
            ))
            for action in end_device_controls.CONTROL_TYPES
        ],
        ("HES command reply, failed", end_device_controls.response_message(
            command_id="C-1", ok=False, timestamp="2026-12-02T10:00:00+05:30", error_code="meter_offline",
        )),
        ("HES relay event", end_device_controls.relay_events_message(
            command_id="C-1", meter="S00000901", is_code=301, created="2026-12-02T10:00:00+05:30",
        )),
    ]  # fmt: skip


@pytest.mark.parametrize(("name", "document"), written_messages(), ids=[n for n, _ in written_messages()])
def test_written_cim_messages_keep_the_schema_order(name: str, document: bytes) -> None:
    assert check(document) == []


def test_the_check_catches_meter_before_its_blocks_and_unknown_children() -> None:
    wrong = (
        b'<MeterReadings xmlns="http://iec.ch/TC57/2011/MeterReadings#"><MeterReading>'
        b"<Meter><mRID>S1</mRID></Meter><IntervalBlocks><ReadingType ref='x'/>"
        b"<IntervalReadings><value>1</value><timeStamp>t</timeStamp></IntervalReadings></IntervalBlocks>"
        b"<Colour>red</Colour></MeterReading></MeterReadings>"
    )
    assert sorted(check(wrong)) == [
        "MeterReadings/MeterReading/Colour: not in the sequence of MeterReading",
        "MeterReadings/MeterReading/IntervalBlocks/IntervalReadings/timeStamp: after value, which the schema puts later",
        "MeterReadings/MeterReading/IntervalBlocks/IntervalReadings: after ReadingType, which the schema puts later",
        "MeterReadings/MeterReading/IntervalBlocks: after Meter, which the schema puts later",
    ]


def test_the_check_catches_end_devices_before_the_control_type() -> None:
    wrong = (
        b'<EndDeviceControls xmlns="http://iec.ch/TC57/2011/EndDeviceControls#"><EndDeviceControl>'
        b"<EndDevices><Names><name>S1</name></Names><mRID>S1</mRID></EndDevices>"
        b'<EndDeviceControlType ref="3.31.0.23"/><mRID>C-1</mRID></EndDeviceControl></EndDeviceControls>'
    )
    assert sorted(check(wrong)) == [
        "EndDeviceControls/EndDeviceControl/EndDeviceControlType: after EndDevices, which the schema puts later",
        "EndDeviceControls/EndDeviceControl/EndDevices/mRID: after Names, which the schema puts later",
        "EndDeviceControls/EndDeviceControl/mRID: after EndDevices, which the schema puts later",
    ]
