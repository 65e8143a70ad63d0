"""IEC 61968-9 as real HES and MDM send it: schema order, envelopes, names, qualities, namespaces."""

from __future__ import annotations

import pytest

from integrations.canonical import ParseError
from integrations.cim.end_device_events import read_end_device_events
from integrations.cim.meter_readings import Quality, read_meter_readings
from tests.integrations import cim_messages as m
from tests.integrations.conftest import utc


def rows(batch: object) -> list[tuple[str, str, object, float, int]]:
    iv = batch.intervals  # type: ignore[attr-defined]
    return sorted(
        zip(
            iv.meter.tolist(),
            iv.channel.tolist(),
            iv.interval_end.tolist(),
            iv.value.tolist(),
            iv.interval_minutes.tolist(),
            strict=True,
        )
    )


EXPECTED = [
    ("S00000201", "kvah", utc("2026-11-27T01:15:00"), 0.9011, 15),
    ("S00000201", "kwh", utc("2026-11-27T01:15:00"), 0.8358, 15),
    ("S00000201", "kwh", utc("2026-11-27T01:30:00"), 0.912, 15),
    ("S00000202", "kwh", utc("2026-11-27T01:15:00"), 0.4, 15),
]


def test_meter_after_its_blocks_names_every_value_of_the_meter_reading(now: int) -> None:
    message = read_meter_readings(m.production_hes(m.two_meters_15_min()), now=now)
    assert message.batch.rejects == []
    assert rows(message.batch) == EXPECTED


def test_header_fields_and_properties_are_read(now: int) -> None:
    header = read_meter_readings(m.production_hes(m.two_meters_15_min()), now=now).header
    assert (header.verb, header.action, header.noun, header.root, header.soap) == (
        "created",
        "create",
        "MeterReadings",
        "EventMessage",
        None,
    )
    assert (header.revision, header.context, header.source, header.message_id) == (
        "1",
        "PRODUCTION",
        "HES-MP-01",
        "1cbd57c9-0001",
    )
    assert header.properties == {"ReadingTypeGroup": "LP", "QOSLevel": "LEVEL-2", "MessageIndex": "1/1"}


def test_reading_qualities_are_kept_beside_the_value_and_never_replace_its_timestamp(now: int) -> None:
    message = read_meter_readings(m.production_hes(m.two_meters_15_min()), now=now)
    loc = "MeterReading[0]/IntervalBlocks[0]/IntervalReadings"
    assert message.qualities == [
        Quality(
            f"{loc}[0]",
            "S00000201",
            "kwh",
            "2026-11-27T01:15:00Z",
            "1.0.0",
            "2026-11-27T06:47:12.000+05:30",
            "HES",
        ),
        Quality(
            f"{loc}[1]",
            "S00000201",
            "kwh",
            "2026-11-27T01:30:00Z",
            "1.0.0",
            "2026-11-27T07:02:10.000+05:30",
            "HES",
        ),
        Quality(
            f"{loc}[1]",
            "S00000201",
            "kwh",
            "2026-11-27T01:30:00Z",
            "1.5.257",
            "2026-11-27T07:02:10.000+05:30",
            "HES",
        ),
    ]


def test_name_type_is_the_kind_of_name_never_the_meter(now: int) -> None:
    body = f"<MeterReading>{m.block(m.KWH_15, m.interval('2026-11-27T06:45:00+05:30', '1'))}{m.meter('S00000777')}</MeterReading>"
    batch = read_meter_readings(m.production_hes(body), now=now).batch
    assert batch.intervals.meter.tolist() == ["S00000777"]


def test_a_name_typed_as_serial_wins_over_the_mrid_and_other_names(now: int) -> None:
    named = (
        "<Meter><mRID>6f1c2b8e-0000-4000-8000-000000000202</mRID>"
        "<Names><name>Flat 4 meter</name><NameType><name>DeviceName</name>"
        "<NameTypeAuthority><name>HES</name></NameTypeAuthority></NameType></Names>"
        "<Names><name>S00000202</name><NameType><name>SerialNumber</name></NameType></Names></Meter>"
    )
    body = f"<MeterReading>{m.block(m.KWH_15, m.interval('2026-11-27T06:45:00+05:30', '1'))}{named}</MeterReading>"
    assert read_meter_readings(m.production_hes(body), now=now).batch.intervals.meter.tolist() == [
        "S00000202"
    ]
    plain = "<Meter><mRID>S00000203</mRID><Names><name>Flat 5 meter</name></Names></Meter>"
    body = f"<MeterReading>{m.block(m.KWH_15, m.interval('2026-11-27T06:45:00+05:30', '1'))}{plain}</MeterReading>"
    assert read_meter_readings(m.production_hes(body), now=now).batch.intervals.meter.tolist() == [
        "S00000203"
    ]


def test_readings_addressed_only_by_usage_point_carry_it_for_master_data(now: int) -> None:
    point = "<UsagePoint><Names><name>IVRS-1001</name></Names></UsagePoint>"
    body = f"<MeterReading>{m.block(m.KWH_15, m.interval('2026-11-27T06:45:00+05:30', '1'))}{point}</MeterReading>"
    batch = read_meter_readings(m.production_hes(body), now=now).batch
    assert batch.intervals.meter.tolist() == ["usage-point:IVRS-1001"]


def test_a_meter_reading_with_neither_meter_nor_usage_point_is_rejected_whole(now: int) -> None:
    body = f"<MeterReading>{m.block(m.KWH_15, m.interval('2026-11-27T06:45:00+05:30', '1'))}</MeterReading>"
    batch = read_meter_readings(m.production_hes(body), now=now).batch
    assert [(r.locator, r.field, r.reason) for r in batch.rejects] == [
        (
            "MeterReading[0]/IntervalBlocks[0]",
            "Meter",
            "no Meter (mRID or Names/name) or UsagePoint; 1 values not stored",
        )
    ]


def test_events_inside_a_meter_reading_do_not_name_its_meter(now: int) -> None:
    events = (
        "<EndDeviceEvents><mRID>e1</mRID><createdDateTime>2026-11-27T06:40:00+05:30</createdDateTime>"
        "<Assets><mRID>WRONG</mRID></Assets><EndDeviceEventType ref='0.26.38.85'/>"
        "<UsagePoint><mRID>UP-WRONG</mRID></UsagePoint></EndDeviceEvents>"
    )
    body = (
        f"<MeterReading>{events}{m.block(m.KWH_15, m.interval('2026-11-27T06:45:00+05:30', '1'))}"
        f"{m.meter('S00000201')}</MeterReading>"
    )
    assert read_meter_readings(m.production_hes(body), now=now).batch.intervals.meter.tolist() == [
        "S00000201"
    ]


@pytest.mark.parametrize(("soap", "version"), [(m.SOAP11, "1.1"), (m.SOAP12, "1.2")])
@pytest.mark.parametrize(
    "wrapper", ["CreatedMeterReadings", "CreateMeterReadings", "MeterReadingsResponseMessage"]
)
def test_soap_and_wsdl_wrappers_carry_the_same_readings(
    now: int, soap: str, version: str, wrapper: str
) -> None:
    verb = "reply" if wrapper.endswith("ResponseMessage") else wrapper[: -len("MeterReadings")].lower()
    data = m.soap_wrapped(
        wrapper, "MeterReadings", m.meter_readings(m.two_meters_15_min()), soap=soap, verb=verb
    )
    message = read_meter_readings(data, now=now)
    assert (message.header.soap, message.header.root, message.header.verb) == (version, wrapper, verb)
    assert message.header.message_id == "conn-0001"
    assert rows(message.batch) == EXPECTED


@pytest.mark.parametrize("year", ["2009", "2011", "2016"])
def test_bare_payload_takes_verb_and_noun_from_the_endpoint_in_each_accepted_namespace(
    now: int, year: str
) -> None:
    data = m.meter_readings(m.two_meters_15_min(), year).encode()
    message = read_meter_readings(data, now=now, default_verb="changed")
    assert (message.header.root, message.header.verb, message.header.action) == (
        "MeterReadings",
        "changed",
        "change",
    )
    assert rows(message.batch) == EXPECTED


def test_an_element_in_a_foreign_namespace_is_refused_by_name(now: int) -> None:
    body = m.two_meters_15_min().replace(
        "<MeterReading>",
        '<MeterReading><x:tariffHint xmlns:x="http://vendor.example/hes-ext">LV1</x:tariffHint>',
        1,
    )
    with pytest.raises(ParseError) as caught:
        read_meter_readings(m.production_hes(body), now=now)
    assert caught.value.code == "foreign_namespace"
    assert caught.value.reason.startswith(
        "element 'tariffHint' is in the foreign namespace 'http://vendor.example/hes-ext'"
    )


def test_a_namespace_of_another_year_is_refused(now: int) -> None:
    with pytest.raises(ParseError) as caught:
        read_meter_readings(m.meter_readings(m.two_meters_15_min(), "2013").encode(), now=now)
    assert caught.value.reason.startswith(
        "element 'MeterReadings' is in the foreign namespace 'http://iec.ch/TC57/2013/MeterReadings#'"
    )


def test_end_device_events_in_a_soap_closed_wrapper(now: int) -> None:
    payload = m.end_device_events(m.end_device_event("ev-9", "2026-11-27T14:10:05+05:30", "3.26.38.85"))
    message = read_end_device_events(
        m.soap_wrapped("ClosedEndDeviceEvents", "EndDeviceEvents", payload, verb="closed"), now=now
    )
    assert (message.header.action, message.header.soap) == ("close", "1.1")
    assert message.batch.events.code.tolist() == [101]
    assert message.batch.events.meter.tolist() == ["S00000201"]


def test_cumulative_load_profile_is_kept_as_register_reads_and_an_unknown_kind_is_refused(now: int) -> None:
    """The production HES's load profile: a cumulative kWh register sampled every 15 minutes."""
    cumulative = "0.0.2.9.1.2.12.0.0.0.0.0.0.0.0.3.72.0"
    odd = "0.0.2.9.15.2.164.0.0.0.0.0.0.0.0.3.73.0"
    body = (
        f"<MeterReading>{m.block(cumulative, m.interval('2026-11-27T06:45:00.000+05:30', '6519.0955'), m.interval('2026-11-27T07:00:00.000+05:30', '6519.1396'))}"
        f"{m.block(odd, m.interval('2026-11-27T06:45:00.000+05:30', '0.8358'))}"
        f"{m.meter('WT20069447', mrid='WT20069447')}</MeterReading>"
    )
    batch = read_meter_readings(m.production_hes(body), now=now).batch
    rg = batch.registers
    assert list(
        zip(
            rg.meter.tolist(),
            rg.kind.tolist(),
            rg.channel.tolist(),
            rg.read_at.tolist(),
            rg.value.tolist(),
            strict=True,
        )
    ) == [
        ("WT20069447", "instant", "kwh", utc("2026-11-27T01:15:00"), 6519.0955),
        ("WT20069447", "instant", "kwh", utc("2026-11-27T01:30:00"), 6519.1396),
    ]
    assert len(batch.intervals) == 0
    assert [(r.locator, r.field, r.reason) for r in batch.rejects] == [
        (
            "MeterReading[0]/IntervalBlocks[1]",
            "ReadingType",
            f"unknown reading type {odd} (not a channel we store); 1 values not stored",
        )
    ]


@pytest.mark.parametrize(
    ("root", "verb"),
    [("RequestMessage", "create"), ("ResponseMessage", "reply"), ("EventMessage", "changed")],
)
def test_each_61968_100_message_root_carries_the_readings(now: int, root: str, verb: str) -> None:
    reply = "<Reply><Result>OK</Result></Reply>" if root == "ResponseMessage" else ""
    data = (
        f'<{root} xmlns="{m.MSG_NS}"><Header>{m.header(verb)}</Header>{reply}'
        f"<Payload>{m.meter_readings(m.two_meters_15_min())}</Payload></{root}>"
    ).encode()
    message = read_meter_readings(data, now=now)
    assert (message.header.root, message.header.verb) == (root, verb)
    assert rows(message.batch) == EXPECTED
