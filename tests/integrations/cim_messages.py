"""IEC 61968-9 messages in the shapes real senders use (written for these tests, not copied).

- `production_hes`: an HES EventMessage with Revision, Context and Header/Property entries,
  ReadingQualities with their own timeStamp inside each IntervalReadings, fractional-second
  timestamps, and Meter AFTER its IntervalBlocks named by Names/NameType "MeterUniqueID".
- `soap_wrapped`: a Connexo-style SOAP envelope around a WSDL wrapper (CreatedMeterReadings ...)
  whose Header and Payload are in the wrapper's namespace.
"""

from __future__ import annotations

MSG_NS = "http://iec.ch/TC57/2011/schema/message"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
KWH_15 = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
KVAH_15 = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.61.0"


def interval(ts: str, value: str, qualities: tuple[tuple[str, str], ...] = ()) -> str:
    q = "".join(
        f"<ReadingQualities><source>HES</source><timeStamp>{stamp}</timeStamp>"
        f'<ReadingQualityType ref="{code}"></ReadingQualityType></ReadingQualities>'
        for code, stamp in qualities
    )
    return f"<IntervalReadings><timeStamp>{ts}</timeStamp><value>{value}</value>{q}</IntervalReadings>"


def block(reading_type: str, *readings: str) -> str:
    return f'<IntervalBlocks>{"".join(readings)}<ReadingType ref="{reading_type}"></ReadingType></IntervalBlocks>'


def meter(serial: str, *, mrid: str | None = None, name_type: str = "MeterUniqueID") -> str:
    m = f"<mRID>{mrid}</mRID>" if mrid else ""
    return (
        f"<Meter>{m}<Names><name>{serial}</name><NameType><name>{name_type}</name></NameType></Names></Meter>"
    )


def header(
    verb: str = "created", noun: str = "MeterReadings", message_id: str = "1cbd57c9-0001", prefix: str = ""
) -> str:
    p = f"{prefix}:" if prefix else ""
    return (
        f"<{p}Verb>{verb}</{p}Verb><{p}Noun>{noun}</{p}Noun><{p}Revision>1</{p}Revision>"
        f"<{p}Context>PRODUCTION</{p}Context><{p}Timestamp>2026-11-28T08:42:21.539+05:30</{p}Timestamp>"
        f"<{p}Source>HES-MP-01</{p}Source><{p}MessageID>{message_id}</{p}MessageID>"
        f"<{p}CorrelationID>{message_id}</{p}CorrelationID>"
        f"<{p}Property><{p}Name>ReadingTypeGroup</{p}Name><{p}Value>LP</{p}Value></{p}Property>"
        f"<{p}Property><{p}Name>QOSLevel</{p}Name><{p}Value>LEVEL-2</{p}Value></{p}Property>"
        f"<{p}Property><{p}Name>MessageIndex</{p}Name><{p}Value>1/1</{p}Value></{p}Property>"
    )


def meter_readings(body: str, year: str = "2011") -> str:
    return f'<MeterReadings xmlns="http://iec.ch/TC57/{year}/MeterReadings#">{body}</MeterReadings>'


def production_hes(body: str, *, verb: str = "created", message_id: str = "1cbd57c9-0001") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<EventMessage xmlns="{MSG_NS}">'
        f"<Header>{header(verb, message_id=message_id)}</Header>"
        f"<Payload>{meter_readings(body)}</Payload></EventMessage>"
    ).encode()


def two_meters_15_min() -> str:
    """Two MeterReadings as the production HES sends them: blocks first, Meter after."""
    first = block(
        KWH_15,
        interval("2026-11-27T06:45:00.000+05:30", "0.8358", (("1.0.0", "2026-11-27T06:47:12.000+05:30"),)),
        interval(
            "2026-11-27T07:00:00.000+05:30",
            "0.9120",
            (("1.0.0", "2026-11-27T07:02:10.000+05:30"), ("1.5.257", "2026-11-27T07:02:10.000+05:30")),
        ),
    )
    second = block(KVAH_15, interval("2026-11-27T06:45:00.000+05:30", "0.9011"))
    return (
        f"<MeterReading>{first}{second}{meter('S00000201', mrid='S00000201')}</MeterReading>"
        f"<MeterReading>{block(KWH_15, interval('2026-11-27T06:45:00.000+05:30', '0.4000'))}"
        f"{meter('S00000202')}</MeterReading>"
    )


def soap_wrapped(
    wrapper: str,
    noun: str,
    payload: str,
    *,
    soap: str = SOAP11,
    verb: str = "created",
    message_id: str = "conn-0001",
    year: str = "2011",
) -> bytes:
    """SOAP envelope / Body / <wrapper> with Header and Payload in the wrapper's namespace."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv="{soap}">'
        '<soapenv:Header><wsa:Action xmlns:wsa="http://www.w3.org/2005/08/addressing">'
        f"{wrapper}</wsa:Action></soapenv:Header><soapenv:Body>"
        f'<ns2:{wrapper} xmlns:ns2="http://iec.ch/TC57/{year}/{noun}Message" xmlns:msg="{MSG_NS}">'
        f"<ns2:Header>{header(verb, noun, message_id, prefix='msg')}</ns2:Header>"
        f"<ns2:Payload>{payload}</ns2:Payload></ns2:{wrapper}></soapenv:Body></soapenv:Envelope>"
    ).encode()


def end_device_events(body: str, year: str = "2011") -> str:
    return f'<EndDeviceEvents xmlns="http://iec.ch/TC57/{year}/EndDeviceEvents#">{body}</EndDeviceEvents>'


def end_device_event(
    mrid: str,
    created: str,
    event_type: str,
    asset: str | None = "S00000201",
    *,
    usage_point: str | None = None,
) -> str:
    assets = f"<Assets><mRID>{asset}</mRID></Assets>" if asset else ""
    point = f"<UsagePoint><mRID>{usage_point}</mRID></UsagePoint>" if usage_point else ""
    return (
        f"<EndDeviceEvent><mRID>{mrid}</mRID><createdDateTime>{created}</createdDateTime>"
        f"<severity>alarm</severity>{assets}"
        f"<EndDeviceEventDetails><name>voltage_r</name><value>228.4</value></EndDeviceEventDetails>"
        f'<EndDeviceEventType ref="{event_type}"/>{point}</EndDeviceEvent>'
    )
