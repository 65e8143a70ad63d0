"""IEC 61968-9 messages as a unified HES sends them, for tests, benchmarks and the demo."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

import numpy as np

from integrations.cim.envelope import MESSAGE_NS
from integrations.cim.event_types import load_mapping
from integrations.cim.reading_types import encode_interval, encode_register
from integrations.simulation import SimDay, local_iso

MR_NS = "http://iec.ch/TC57/2011/MeterReadings#"
EDE_NS = "http://iec.ch/TC57/2011/EndDeviceEvents#"


def _envelope(noun: str, payload: str, source: str, message_id: str, timestamp: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<EventMessage xmlns="{MESSAGE_NS}">'
        f"<Header><Verb>created</Verb><Noun>{noun}</Noun><Timestamp>{timestamp}</Timestamp>"
        f"<Source>{escape(source)}</Source><MessageID>{escape(message_id)}</MessageID>"
        f"<CorrelationID>{escape(message_id)}</CorrelationID></Header>"
        f"<Payload>{payload}</Payload></EventMessage>"
    ).encode()


def _interval_blocks(sim: SimDay, channels: Sequence[str] | None) -> str:
    ends = local_iso(sim.local_ends)
    present = sim.present
    parts = []
    for channel in channels or sim.channels:
        if channel not in sim.channels:
            continue
        values = sim.channels[channel].tolist()
        readings = "".join(
            f"<IntervalReadings><timeStamp>{end}</timeStamp><value>{value}</value></IntervalReadings>"
            for end, value, ok in zip(ends, values, present.tolist(), strict=True)
            if ok
        )
        ref = encode_interval(channel, sim.interval_minutes)
        parts.append(f'<IntervalBlocks>{readings}<ReadingType ref="{ref}"/></IntervalBlocks>')
    return "".join(parts)


def _meter(serial: str) -> str:
    name = escape(serial)
    return (
        f"<Meter><mRID>{name}</mRID><Names><name>{name}</name>"
        "<NameType><name>MeterUniqueID</name></NameType></Names></Meter>"
    )


def _register_readings(sim: SimDay) -> str:
    (at,) = local_iso(np.array([sim.local_ends[0] - sim.interval_minutes * 60]))
    rows = [("kwh", sim.register_start_kwh), ("kvah", sim.register_start_kvah)]
    return "".join(
        f"<Readings><timeStamp>{at}</timeStamp><value>{value}</value>"
        f'<ReadingType ref="{encode_register(channel, "daily")}"/></Readings>'
        for channel, value in rows
    )


def meter_readings_message(
    days: Sequence[SimDay],
    *,
    source: str = "UHES",
    message_id: str = "MR-1",
    channels: Sequence[str] | None = None,
    registers: bool = True,
    timestamp: str = "2026-11-28T06:00:00+05:30",
) -> bytes:
    """A MeterReadings EventMessage: one MeterReading per meter-day, one IntervalBlock per channel.

    In the schema's order: IntervalBlocks, then Meter (named as a production HES names it), then
    Readings.
    """
    body = "".join(
        f"<MeterReading>{_interval_blocks(sim, channels)}{_meter(sim.meter.serial)}"
        f"{_register_readings(sim) if registers else ''}</MeterReading>"
        for sim in days
    )
    payload = f'<MeterReadings xmlns="{MR_NS}">{body}</MeterReadings>'
    return _envelope("MeterReadings", payload, source, message_id, timestamp)


def end_device_events_message(
    days: Sequence[SimDay],
    *,
    source: str = "UHES",
    message_id: str = "EDE-1",
    timestamp: str = "2026-11-28T06:00:00+05:30",
) -> bytes:
    """An EndDeviceEvents EventMessage for the simulated days' events (IS codes -> CIM types)."""
    parts = []
    to_cim = load_mapping().to_cim
    for sim in days:
        for n, (code, local) in enumerate(sim.events):
            (at,) = local_iso(np.array([local]))
            parts.append(
                f"<EndDeviceEvent><mRID>{escape(sim.meter.serial)}-{code}-{n}</mRID>"
                f"<createdDateTime>{at}</createdDateTime>"
                f"<Assets><mRID>{escape(sim.meter.serial)}</mRID></Assets>"
                f"<EndDeviceEventDetails><name>voltage_r</name><value>231.0</value></EndDeviceEventDetails>"
                f'<EndDeviceEventType ref="{to_cim[code]}"/></EndDeviceEvent>'
            )
    payload = f'<EndDeviceEvents xmlns="{EDE_NS}">{"".join(parts)}</EndDeviceEvents>'
    return _envelope("EndDeviceEvents", payload, source, message_id, timestamp)


def billion_laughs() -> bytes:
    """The classic entity-expansion bomb (a few hundred bytes that expand to gigabytes)."""
    lol = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    return f'<?xml version="1.0"?><!DOCTYPE lolz [{lol}]><EventMessage>&lol9;</EventMessage>'.encode()


def external_entity() -> bytes:
    return (
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<EventMessage><Header><Verb>created</Verb><Noun>MeterReadings</Noun>"
        b"<Source>&xxe;</Source></Header><Payload/></EventMessage>"
    )
