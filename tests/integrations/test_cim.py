"""IEC 61968-9: envelope checked, ReadingType decoded, event types mapped to IS 15959 codes."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from integrations.canonical import ParseError
from integrations.cim import simulator
from integrations.cim.end_device_events import parse_end_device_events
from integrations.cim.event_types import MappingError, is_code_for, load_mapping, parse_mapping, unmapped_code
from integrations.cim.meter_readings import parse_meter_readings
from integrations.cim.reading_types import Decoded, decode, encode_interval, encode_register
from integrations.is15959 import EVENT_CODES
from integrations.simulation import SimMeter, simulate_day
from tests.integrations.conftest import sample, utc


@pytest.mark.parametrize(
    ("ref", "decoded"),
    [
        # 15/30/60-min and daily delta energy, import and export
        ("0.0.5.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0", Decoded("interval", "kwh", 30)),
        ("0.0.2.4.19.1.12.0.0.0.0.0.0.0.0.3.72.0", Decoded("interval", "kwh_export", 15)),
        ("0.0.7.4.1.1.12.0.0.0.0.0.0.0.0.3.61.0", Decoded("interval", "kvah", 60)),
        ("0.0.2.4.19.1.12.0.0.0.0.0.0.0.0.3.61.0", Decoded("interval", "kvah_export", 15)),
        ("0.0.2.4.15.1.12.0.0.0.0.0.0.0.0.3.73.0", Decoded("interval", "kvarh_lag", 15)),
        ("0.0.2.4.2.1.12.0.0.0.0.0.0.0.0.3.73.0", Decoded("interval", "kvarh_lag", 15)),
        ("0.0.2.4.18.1.12.0.0.0.0.0.0.0.0.3.73.0", Decoded("interval", "kvarh_lead", 15)),
        ("11.0.0.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0", Decoded("interval", "kwh", 1440)),
        ("0.0.4.4.19.1.12.0.0.0.0.0.0.0.0.3.72.0", Decoded("interval", "kwh_export", 1440)),
        # net flow
        ("0.0.2.4.4.1.12.0.0.0.0.0.0.0.0.3.72.0", Decoded("interval", "kwh_net", 15)),
        # Wh (multiplier 0) is stored in kWh
        ("0.0.5.4.1.1.12.0.0.0.0.0.0.0.0.0.72.0", Decoded("interval", "kwh", 30, scale=0.001)),
        # a cumulative register sampled every 15 minutes (the production HES's load profile)
        ("0.0.2.9.1.2.12.0.0.0.0.0.0.0.0.3.72.0", Decoded("register", "kwh", 15, "instant")),
        ("0.0.2.3.19.1.12.0.0.0.0.0.0.0.0.3.72.0", Decoded("register", "kwh_export", 15, "instant")),
        # registers: billing per TOD zone, daily, demand with time
        ("8.0.0.3.1.1.12.0.0.0.0.2.0.0.0.3.72.0", Decoded("register", "kwh", 0, "billing", 2)),
        ("11.0.0.9.1.1.12.0.0.0.0.0.0.0.0.3.72.0", Decoded("register", "kwh", 0, "daily")),
        ("8.8.0.6.1.1.8.0.0.0.0.0.0.0.0.3.38.0", Decoded("register", "md_kw", 0, "billing", 0)),
        ("13.8.0.6.1.1.8.0.0.0.0.1.0.0.0.3.61.0", Decoded("register", "md_kva", 0, "billing", 1)),
        # instantaneous V / I / PF / Hz per phase, profiles and snapshots
        ("0.2.7.12.0.1.54.0.0.0.0.0.0.0.64.0.29.0", Decoded("interval", "voltage_y", 60)),
        ("0.2.2.12.0.1.4.0.0.0.0.0.0.0.33.0.5.0", Decoded("interval", "current_b", 15)),
        ("0.0.0.12.0.1.54.0.0.0.0.0.0.0.128.0.29.0", Decoded("register", "voltage_r", 0, "instant")),
        ("0.0.0.12.0.1.38.0.0.0.0.0.0.0.0.0.65.0", Decoded("register", "pf", 0, "instant")),
        ("0.0.0.12.0.1.46.0.0.0.0.0.0.0.0.0.33.0", Decoded("register", "frequency", 0, "instant")),
        ("0.0.2.12.0.1.46.0.0.0.0.0.0.0.0.0.33.0", Decoded("interval", "frequency", 15)),
    ],
)
def test_reading_type_catalogue_decodes_measure_unit_interval_accumulation_and_flow(
    ref: str, decoded: Decoded
) -> None:
    assert decode(ref) == decoded


@pytest.mark.parametrize(
    "ref",
    [
        "0.0.5.4.1.1.99.0.0.0.0.0.0.0.0.3.72.0",  # measurement kind 99
        "0.0.2.9.15.2.164.0.0.0.0.0.0.0.0.3.73.0",  # kind 164: not a quantity we store
        "0.0.0.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0",  # a delta with no period
        "0.0.2.4.5.1.12.0.0.0.0.0.0.0.0.3.73.0",  # flow 5 (Q1+Q2) kvarh: not lag, not lead
        "0.0.5.4.1.1.12",
        "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r",
    ],
)
def test_reading_types_we_do_not_store_are_refused_by_name(ref: str) -> None:
    reason = decode(ref)
    assert isinstance(reason, str) and ref in reason


@pytest.mark.parametrize(
    "channel",
    [
        "kwh",
        "kvah",
        "kvarh_lag",
        "kvarh_lead",
        "kwh_export",
        "kwh_net",
        "voltage_r",
        "current_b",
        "pf",
        "frequency",
    ],
)
def test_every_interval_channel_encodes_to_a_reading_type_that_decodes_back(channel: str) -> None:
    assert decode(encode_interval(channel, 15)) == Decoded("interval", channel, 15)


def test_register_reading_types_round_trip() -> None:
    for channel in ("kwh", "kvah", "md_kw", "md_kva", "avg_pf"):
        decoded = decode(encode_register(channel, "billing", 3))
        assert isinstance(decoded, Decoded) and (decoded.channel, decoded.tod_zone) == (channel, 3)


def test_event_type_mapping_file_names_only_is_15959_codes_and_maps_back() -> None:
    mapping = load_mapping()
    assert all(code in EVENT_CODES for code in mapping.to_is.values())
    assert all(mapping.to_is[cim] == code for code, cim in mapping.to_cim.items())
    assert is_code_for("0.12.66.242") == 201
    assert is_code_for("3.26.38.85") == 101  # a specific device type matches the "any device" entry
    assert is_code_for("0.99.99.99") is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("0.26.38,101,x", "event_types.csv line 2: '0.26.38' is not an EndDeviceEventType (a.b.c.d)"),
        ("0.26.38.85,9999,x", "event_types.csv line 2: '9999' is not an IS 15959 event code"),
    ],
)
def test_a_bad_mapping_row_is_refused_with_its_line(line: str, reason: str) -> None:
    with pytest.raises(MappingError) as caught:
        parse_mapping(f"cim_type,is_code,meaning\n{line}\n")
    assert str(caught.value) == reason


def test_unmapped_codes_are_negative_and_stable_per_type() -> None:
    assert unmapped_code("3.2.22.150") == unmapped_code(" 3.2.22.150 ") < 0
    assert unmapped_code("3.2.22.150") != unmapped_code("3.2.22.151")


def test_meter_readings_message_is_decoded_with_exact_utc_times_and_scaling(now: int) -> None:
    batch = parse_meter_readings(sample("cim_meter_readings.xml"), now=now)
    assert (batch.source, batch.message_id) == ("cim:UHES-1", "MR-20261128-0001")
    iv = batch.intervals
    rows = sorted(
        zip(iv.meter, iv.channel, iv.interval_end.tolist(), iv.value, iv.interval_minutes, strict=True)
    )
    # 250 Wh (multiplier 0) is stored as 0.25 kWh; IST 00:30 is 19:00 UTC the day before.
    assert rows == [
        ("S00000201", "kwh", utc("2026-11-26T19:00:00"), 0.21, 30),
        ("S00000201", "kwh", utc("2026-11-26T19:30:00"), 0.19, 30),
        ("S00000201", "kwh", utc("2026-11-26T20:00:00"), 0.25, 30),
        ("S00000201", "voltage_r", utc("2026-11-26T19:00:00"), 231.5, 30),
        ("S00000202", "kwh", utc("2026-11-26T19:00:00"), 0.4, 30),
    ]


def test_meter_readings_reports_unknown_reading_type_and_duplicate_interval(now: int) -> None:
    batch = parse_meter_readings(sample("cim_meter_readings.xml"), now=now)
    iv = batch.intervals
    # The Wh block repeats S00000201's first kWh interval (210 Wh): the first one (0.21) is kept.
    first = (iv.meter == "S00000201") & (iv.channel == "kwh")
    assert iv.value[first].tolist() == [0.21, 0.19, 0.25]
    assert iv.meter[iv.channel == "voltage_r"].tolist() == ["S00000201"]
    # Named by the Names entry whose NameType says serial number, not the mRID (a UUID) or the
    # device name, although Meter comes after its blocks.
    assert iv.value[iv.meter == "S00000202"].tolist() == [0.4]
    assert [(r.locator, r.field, r.meter) for r in batch.rejects] == [
        ("MeterReading[1]/IntervalBlocks[1]", "ReadingType", "S00000202"),
        ("MeterReading[0]/IntervalBlocks[2]/IntervalReadings[1]", "kwh", "S00000201"),
    ]
    assert batch.rejects[0].reason == (
        "unknown reading type 0.0.5.4.1.1.99.0.0.0.0.0.0.0.0.3.72.0 (not a channel we store); 1 values not stored"
    )
    assert batch.rejects[1].reason == "duplicate interval in this message (the first one is kept)"
    rg = batch.registers
    assert (rg.meter.tolist(), rg.kind.tolist(), rg.channel.tolist(), rg.value.tolist()) == (
        ["S00000201"],
        ["daily"],
        ["kwh"],
        [1520.75],
    )
    assert rg.read_at.tolist() == [utc("2026-11-26T18:30:00")]


def test_end_device_events_map_to_is_15959_codes(now: int) -> None:
    batch = parse_end_device_events(sample("cim_end_device_events.xml"), now=now)
    ev = batch.events
    assert ev.code.tolist()[:2] == [201, 101]
    assert ev.occurred_at.tolist()[:2] == [utc("2026-11-27T08:40:05"), utc("2026-11-27T14:30:00")]
    assert ev.snapshot[0] == {"current_r": 3.2, "cim_mrid": "evt-1", "cim_type": "0.12.66.242"}
    # The type no mapping names is kept, under its own negative code, with the raw type.
    assert ev.code.tolist()[2] == unmapped_code("0.99.99.99")
    assert ev.snapshot[2] == {"cim_mrid": "evt-3", "cim_type": "0.99.99.99", "unmapped": True}
    assert batch.rejects == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b"<EventMessage><Header><Verb>created</Verb><Noun>EndDeviceEvents</Noun></Header><Payload/></EventMessage>",
            "Noun 'EndDeviceEvents' sent to the MeterReadings endpoint",
        ),
        (
            b"<EventMessage><Header><Verb>execute</Verb><Noun>MeterReadings</Noun></Header><Payload/></EventMessage>",
            "Verb 'execute' is not accepted for MeterReadings (use one of ('create', 'created', 'change',"
            " 'changed', 'close', 'closed', 'cancel', 'canceled', 'cancelled', 'delete', 'deleted', 'reply'))",
        ),
        (
            b"<EventMessage><Header><Verb>created</Verb><Noun>MeterReadings</Noun></Header></EventMessage>",
            "the message has no Payload",
        ),
        (
            b"<Message><Header><Verb>created</Verb><Noun>MeterReadings</Noun></Header></Message>",
            "root element 'Message' is not a message envelope (RequestMessage, EventMessage, ResponseMessage,"
            " the MeterReadings WSDL wrappers, a SOAP Envelope or a bare MeterReadings)",
        ),
        (
            b"<EventMessage><Header><Noun>MeterReadings</Noun></Header><Payload/></EventMessage>",
            "the message Header must have a Verb and a Noun",
        ),
        (b"not xml at all", "not well-formed XML: syntax error: line 1, column 0"),
    ],
)
def test_bad_envelope_refuses_the_whole_message(body: bytes, reason: str, now: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse_meter_readings(body, now=now)
    assert caught.value.reason == reason


@pytest.mark.parametrize("parse", [parse_meter_readings, parse_end_device_events])
@pytest.mark.parametrize("body", [simulator.billion_laughs(), simulator.external_entity()])
def test_xml_bombs_and_external_entities_are_refused(parse: object, body: bytes, now: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse(body, now=now)  # type: ignore[operator]
    assert caught.value.code == "forbidden_xml"


def test_simulated_message_round_trips(now: int) -> None:
    sims = [
        simulate_day(SimMeter(f"S0000090{i}", phases=3, faults=("gap", "tamper_magnet")), date(2026, 11, 26))
        for i in range(3)
    ]
    batch = parse_meter_readings(simulator.meter_readings_message(sims), now=now)
    assert batch.rejects == []
    assert len(batch.intervals) == sum(int(s.present.sum()) * len(s.channels) for s in sims)
    kwh = (batch.intervals.meter == "S00000901") & (batch.intervals.channel == "kwh")
    np.testing.assert_allclose(batch.intervals.value[kwh], sims[1].channels["kwh"][sims[1].present])
    events = parse_end_device_events(simulator.end_device_events_message(sims), now=now)
    assert events.events.code.tolist() == [201, 201, 201]
