"""CIM endpoints end to end: real senders' message shapes through parsing, master data and the store,
answered with a 61968-100 ResponseMessage checked field by field, and the database checked after."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, text

from tests.integrations import cim_messages as m
from tests.readings.cim_replies import read_reply
from tests.readings.conftest import add_meter

XML = {"Content-Type": "text/xml"}
MSG = "{http://iec.ch/TC57/2011/schema/message}"


@pytest.fixture
def grid(session: Any) -> dict[str, int]:
    """Meters S00000201/202; consumer IVRS-1001 (usage point UP-77) with meter S00000203 installed."""
    from service.masterdata.models import Consumer, Installation, OrgUnit

    org = session.execute(
        insert(OrgUnit).values(code="T", name="T", level="discom", path="/T/").returning(OrgUnit.id)
    ).scalar_one()
    ids = {serial: add_meter(session, serial, org) for serial in ("S00000201", "S00000202", "S00000203")}
    consumer = session.execute(
        insert(Consumer)
        .values(
            ivrs_number="IVRS-1001",
            usage_point_id="UP-77",
            name="A",
            tariff_category="LV1",
            sanctioned_load=2,
            org_unit_id=org,
        )
        .returning(Consumer.id)
    ).scalar_one()
    session.execute(
        insert(Installation).values(
            meter_id=ids["S00000203"], consumer_id=consumer, installed_at=datetime(2026, 1, 1, tzinfo=UTC)
        )
    )
    session.commit()
    return ids


@pytest.fixture
def writer(make_api_key: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_api_key("readings:write", "events:write", system="hes-mp")


def stored_intervals(session: Any) -> list[tuple[str, str, str, float, int, str]]:
    rows = session.execute(
        text(
            "SELECT m.serial_number, i.channel,"
            " to_char(i.interval_end AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI'), i.value,"
            " i.interval_minutes, i.source"
            " FROM interval_readings i JOIN meters m ON m.id = i.meter_id"
            " ORDER BY 1, 2, 3"
        )
    )
    return [tuple(r) for r in rows]


STORED = [
    ("S00000201", "kvah", "2026-11-27T01:15", 0.9011, 15, "cim:HES-MP-01"),
    ("S00000201", "kwh", "2026-11-27T01:15", 0.8358, 15, "cim:HES-MP-01"),
    ("S00000201", "kwh", "2026-11-27T01:30", 0.912, 15, "cim:HES-MP-01"),
    ("S00000202", "kwh", "2026-11-27T01:15", 0.4, 15, "cim:HES-MP-01"),
]


def post(
    client: Any, writer: Any, data: bytes, path: str = "/api/v1/cim/meter-readings", **headers: str
) -> Any:
    return client.post(path, data=data, headers={**writer, **XML, **headers})


def test_production_hes_message_is_stored_whole_and_answered_ok(
    client: Any, session: Any, grid: Any, writer: Any
) -> None:
    response = post(client, writer, m.production_hes(m.two_meters_15_min()))
    assert (response.status_code, response.mimetype) == (200, "application/xml")
    reply = read_reply(response.data)
    batch_id = session.execute(text("SELECT max(id) FROM ingest_batches")).scalar_one()
    assert reply["root"] == f"{MSG}ResponseMessage" and reply["soap"] is None
    assert reply["header"]["Verb"] == "reply"
    assert reply["header"]["Noun"] == "MeterReadings"
    assert reply["header"]["CorrelationID"] == "1cbd57c9-0001"
    assert reply["header"]["MessageID"] == f"CMDMS-{batch_id}"
    assert reply["header"]["Source"] == "CMDMS"
    assert reply["header"]["Timestamp"].endswith("+05:30")
    assert (reply["result"], reply["errors"], reply["ids"]) == ("OK", [], [("ingest_batch", str(batch_id))])
    assert stored_intervals(session) == STORED
    qualities = session.execute(
        text(
            "SELECT q.channel, to_char(q.at AT TIME ZONE 'UTC', 'HH24:MI'), q.code,"
            " to_char(q.quality_at AT TIME ZONE 'UTC', 'HH24:MI:SS'), q.source FROM reading_qualities q"
            " ORDER BY 2, 3"
        )
    ).all()
    assert [tuple(q) for q in qualities] == [
        ("kwh", "01:15", "1.0.0", "01:17:12", "HES"),
        ("kwh", "01:30", "1.0.0", "01:32:10", "HES"),
        ("kwh", "01:30", "1.5.257", "01:32:10", "HES"),
    ]
    again = post(client, writer, m.production_hes(m.two_meters_15_min()))
    assert (again.status_code, read_reply(again.data)["result"]) == (200, "OK")
    assert stored_intervals(session) == STORED  # re-delivery changes nothing


def test_mixed_known_and_unknown_reading_types_answer_partial_with_one_error_per_block(
    client: Any, session: Any, grid: Any, writer: Any
) -> None:
    unknown = "0.0.2.4.1.1.99.0.0.0.0.0.0.0.0.3.72.0"
    body = (
        f"<MeterReading>{m.block(m.KWH_15, m.interval('2026-11-27T06:45:00+05:30', '0.5'))}"
        f"{m.block(unknown, m.interval('2026-11-27T06:45:00+05:30', '7'), m.interval('2026-11-27T07:00:00+05:30', '8'))}"
        f"{m.meter('S00000201')}</MeterReading>"
    )
    response = post(client, writer, m.production_hes(body, message_id="mixed-1"))
    reply = read_reply(response.data)
    assert (response.status_code, reply["result"], reply["header"]["CorrelationID"]) == (
        200,
        "PARTIAL",
        "mixed-1",
    )
    assert reply["errors"] == [
        {
            "code": "rejected.ReadingType",
            "level": "WARNING",
            "reason": f"unknown reading type {unknown} (not a channel we store); 2 values not stored",
            "details": "locator=MeterReading[0]/IntervalBlocks[1]; meter=S00000201",
            "object": {"mRID": "S00000201", "objectType": "Meter"},
        }
    ]
    assert stored_intervals(session) == [("S00000201", "kwh", "2026-11-27T01:15", 0.5, 15, "cim:HES-MP-01")]


def test_nothing_stored_is_422_failed(client: Any, session: Any, grid: Any, writer: Any) -> None:
    body = f"<MeterReading>{m.block('0.0.2.4.1.1.99.0.0.0.0.0.0.0.0.3.72.0', m.interval('2026-11-27T06:45:00+05:30', '1'))}{m.meter('S00000201')}</MeterReading>"
    response = post(client, writer, m.production_hes(body))
    reply = read_reply(response.data)
    assert (response.status_code, reply["result"], len(reply["errors"])) == (422, "FAILED", 1)
    assert stored_intervals(session) == []


@pytest.mark.parametrize(("soap", "media"), [(m.SOAP11, "text/xml"), (m.SOAP12, "application/soap+xml")])
def test_soap_wrapped_request_gets_a_soap_wrapped_response_message(
    client: Any, session: Any, grid: Any, writer: Any, soap: str, media: str
) -> None:
    data = m.soap_wrapped(
        "CreatedMeterReadings", "MeterReadings", m.meter_readings(m.two_meters_15_min()), soap=soap
    )
    response = post(client, writer, data, **{"Content-Type": media})
    reply = read_reply(response.data)
    assert (response.status_code, response.mimetype, reply["soap"]) == (200, media, soap)
    assert reply["root"] == "{http://iec.ch/TC57/2011/MeterReadingsMessage}MeterReadingsResponseMessage"
    assert (reply["result"], reply["header"]["CorrelationID"]) == ("OK", "conn-0001")
    assert stored_intervals(session) == STORED


def test_json_callers_keep_the_json_answer(client: Any, session: Any, grid: Any, writer: Any) -> None:
    response = post(client, writer, m.production_hes(m.two_meters_15_min()), Accept="application/json")
    body = response.get_json()
    assert response.status_code == 200
    assert (body["stored"], body["message_id"], body["rejected"]) == (4, "1cbd57c9-0001", [])


def test_unreadable_message_answers_failed_in_its_envelope(
    client: Any, session: Any, grid: Any, writer: Any
) -> None:
    body = m.two_meters_15_min().replace(
        "<MeterReading>", '<MeterReading><x:hint xmlns:x="urn:vendor">1</x:hint>', 1
    )
    data = m.soap_wrapped("CreatedMeterReadings", "MeterReadings", m.meter_readings(body))
    response = post(client, writer, data)
    reply = read_reply(response.data)
    assert (response.status_code, reply["result"], reply["soap"]) == (400, "FAILED", m.SOAP11)
    assert [(e["code"], e["level"]) for e in reply["errors"]] == [("foreign_namespace", "FATAL")]
    assert reply["errors"][0]["reason"].startswith("element 'hint' is in the foreign namespace 'urn:vendor'")
    assert session.execute(text("SELECT count(*) FROM ingest_batches")).scalar_one() == 0


def test_usage_point_only_readings_resolve_through_master_data_or_are_rejected(
    client: Any, session: Any, grid: Any, writer: Any
) -> None:
    def reading(point: str, ts: str) -> str:
        blocks = m.block(m.KWH_15, m.interval(ts, "1.5"))
        return f"<MeterReading>{blocks}<UsagePoint><mRID>{point}</mRID></UsagePoint></MeterReading>"

    data = m.production_hes(
        reading("UP-77", "2026-11-27T06:45:00+05:30")
        + reading("IVRS-1001", "2026-11-27T07:00:00+05:30")
        + reading("UP-404", "2026-11-27T06:45:00+05:30")
    )
    reply = read_reply(post(client, writer, data).data)
    assert reply["result"] == "PARTIAL"
    assert [(e["code"], e["reason"]) for e in reply["errors"]] == [
        (
            "rejected.UsagePoint",
            "usage point 'UP-404' has no meter in master data (no consumer with that usage-point id or IVRS"
            " number and an installed meter); 1 values not stored",
        )
    ]
    assert stored_intervals(session) == [
        ("S00000203", "kwh", "2026-11-27T01:15", 1.5, 15, "cim:HES-MP-01"),
        ("S00000203", "kwh", "2026-11-27T01:30", 1.5, 15, "cim:HES-MP-01"),
    ]
    assert session.execute(text("SELECT count(*) FROM quarantined_readings")).scalar_one() == 0


def test_deleted_readings_become_revisions_not_silent_drops(
    client: Any, session: Any, grid: Any, writer: Any
) -> None:
    post(client, writer, m.production_hes(m.two_meters_15_min()))
    gone = f"<MeterReading>{m.block(m.KWH_15, m.interval('2026-11-27T07:00:00.000+05:30', '0.9120'), m.interval('2026-11-27T07:15:00+05:30', '1'))}{m.meter('S00000201')}</MeterReading>"
    response = post(client, writer, m.production_hes(gone, verb="deleted", message_id="del-1"))
    reply = read_reply(response.data)
    assert (response.status_code, reply["result"]) == (200, "PARTIAL")
    assert [(e["code"], e["reason"], e["details"]) for e in reply["errors"]] == [
        (
            "rejected.key",
            "no stored value to delete",
            "locator=intervals[1]; meter=S00000201; timestamp=2026-11-27T01:45:00Z",
        )
    ]
    assert stored_intervals(session) == [r for r in STORED if r[2] != "2026-11-27T01:30"]
    revisions = session.execute(
        text(
            "SELECT measure, channel, to_char(at AT TIME ZONE 'UTC', 'HH24:MI'), old_value, new_value,"
            " new_extra->>'deleted', new_extra->>'verb', applied FROM reading_revisions"
        )
    ).all()
    assert [tuple(r) for r in revisions] == [
        ("interval", "kwh", "01:30", 0.912, None, "true", "deleted", True)
    ]


def test_closed_verb_has_no_meaning_for_readings(client: Any, session: Any, grid: Any, writer: Any) -> None:
    response = post(client, writer, m.production_hes(m.two_meters_15_min(), verb="closed"))
    reply = read_reply(response.data)
    assert (response.status_code, reply["result"]) == (400, "FAILED")
    assert reply["errors"][0]["code"] == "unsupported_verb"
    assert stored_intervals(session) == []


def test_bare_payload_takes_its_verb_from_the_path(client: Any, session: Any, grid: Any, writer: Any) -> None:
    data = m.meter_readings(m.two_meters_15_min(), "2016").encode()
    response = post(client, writer, data, path="/api/v1/cim/meter-readings/created")
    reply = read_reply(response.data)
    assert (response.status_code, reply["result"], reply["header"].get("CorrelationID")) == (200, "OK", None)
    # A bare payload names no Source: the batch is the sending system's (its API key).
    assert stored_intervals(session) == [(*r[:5], "cim:hes-mp") for r in STORED]


def test_a_sampled_cumulative_register_is_stored_as_read_and_gives_interval_deltas(
    client: Any, session: Any, grid: Any, writer: Any
) -> None:
    from service.readings.derived import interval_deltas

    cumulative = "0.0.2.9.1.2.12.0.0.0.0.0.0.0.0.3.72.0"
    samples = [("06:45", "6519.0955"), ("07:00", "6519.1396"), ("07:15", "6519.2001"), ("07:45", "6519.3")]
    blocks = m.block(cumulative, *(m.interval(f"2026-11-27T{t}:00.000+05:30", v) for t, v in samples))
    data = m.production_hes(f"<MeterReading>{blocks}{m.meter('S00000201', mrid='S00000201')}</MeterReading>")
    assert read_reply(post(client, writer, data).data)["result"] == "OK"
    rows = session.execute(
        text(
            "SELECT kind, channel, to_char(read_at AT TIME ZONE 'UTC', 'HH24:MI'), value FROM register_reads"
            " ORDER BY read_at"
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("instant", "kwh", "01:15", 6519.0955),
        ("instant", "kwh", "01:30", 6519.1396),
        ("instant", "kwh", "01:45", 6519.2001),
        ("instant", "kwh", "02:15", 6519.3),
    ]
    deltas = interval_deltas(
        session,
        grid["S00000201"],
        "kwh",
        datetime(2026, 11, 27, 1, 0, tzinfo=UTC),
        datetime(2026, 11, 27, 3, 0, tzinfo=UTC),
    )
    # 07:15 -> 07:45 is two periods apart: no delta is made up for it.
    assert [
        (d["interval_end"].astimezone(UTC).strftime("%H:%M"), d["interval_minutes"], d["value"])
        for d in deltas
    ] == [
        ("01:30", 15, 0.0441),
        ("01:45", 15, 0.0605),
    ]


def test_changed_readings_replace_the_stored_value_and_keep_the_old_one(
    client: Any, session: Any, grid: Any, writer: Any
) -> None:
    post(client, writer, m.production_hes(m.two_meters_15_min()))
    fixed = f"<MeterReading>{m.block(m.KWH_15, m.interval('2026-11-27T06:45:00+05:30', '0.8400'))}{m.meter('S00000201')}</MeterReading>"
    reply = read_reply(post(client, writer, m.production_hes(fixed, verb="changed", message_id="chg-1")).data)
    assert (reply["result"], reply["header"]["CorrelationID"]) == ("OK", "chg-1")
    assert ("S00000201", "kwh", "2026-11-27T01:15", 0.84, 15, "cim:HES-MP-01") in stored_intervals(session)
    old = session.execute(text("SELECT old_value, new_value FROM reading_revisions")).all()
    assert [tuple(r) for r in old] == [(0.8358, 0.84)]
