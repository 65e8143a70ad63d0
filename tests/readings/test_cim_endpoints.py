"""CIM endpoints end to end: real senders' message shapes through parsing, master data and the store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, text

from tests.integrations import cim_messages as m
from tests.readings.conftest import add_meter

XML = {"Content-Type": "text/xml"}


@pytest.fixture
def grid(session: Any) -> dict[str, int]:
    """Meters S00000201/202, and consumer IVRS-1001 with meter S00000203 installed."""
    from service.masterdata.models import Consumer, Installation, OrgUnit

    org = session.execute(
        insert(OrgUnit).values(code="T", name="T", level="discom", path="/T/").returning(OrgUnit.id)
    ).scalar_one()
    ids = {serial: add_meter(session, serial, org) for serial in ("S00000201", "S00000202", "S00000203")}
    consumer = session.execute(
        insert(Consumer)
        .values(ivrs_number="IVRS-1001", name="A", tariff_category="LV1", sanctioned_load=2, org_unit_id=org)
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


def test_production_hes_message_with_meter_after_blocks_is_stored_whole(
    client: Any, session: Any, grid: Any, writer: Any
) -> None:
    response = client.post(
        "/api/v1/cim/meter-readings", data=m.production_hes(m.two_meters_15_min()), headers={**writer, **XML}
    )
    body = response.get_json()
    assert response.status_code == 200
    assert (body["stored"], body["quarantined"], body["rejected"]) == (4, 0, [])
    assert stored_intervals(session) == STORED
    again = client.post(
        "/api/v1/cim/meter-readings", data=m.production_hes(m.two_meters_15_min()), headers={**writer, **XML}
    ).get_json()
    assert (again["stored"], again["unchanged"]) == (0, 4)
    assert stored_intervals(session) == STORED


@pytest.mark.parametrize("soap", [m.SOAP11, m.SOAP12])
def test_soap_wrapped_readings_are_stored(
    client: Any, session: Any, grid: Any, writer: Any, soap: str
) -> None:
    data = m.soap_wrapped(
        "CreatedMeterReadings", "MeterReadings", m.meter_readings(m.two_meters_15_min()), soap=soap
    )
    media = "text/xml" if soap == m.SOAP11 else "application/soap+xml"
    response = client.post("/api/v1/cim/meter-readings", data=data, headers={**writer, "Content-Type": media})
    assert response.status_code == 200 and response.get_json()["stored"] == 4
    assert stored_intervals(session) == STORED


def test_usage_point_only_readings_resolve_through_the_consumer_or_are_rejected(
    client: Any, session: Any, grid: Any, writer: Any
) -> None:
    def reading(point: str) -> str:
        blocks = m.block(m.KWH_15, m.interval("2026-11-27T06:45:00+05:30", "1.5"))
        return f"<MeterReading>{blocks}<UsagePoint><Names><name>{point}</name></Names></UsagePoint></MeterReading>"

    data = m.production_hes(reading("IVRS-1001") + reading("IVRS-9999"))
    body = client.post("/api/v1/cim/meter-readings", data=data, headers={**writer, **XML}).get_json()
    assert body["stored"] == 1
    assert [(r["field"], r["reason"]) for r in body["rejected"]] == [
        (
            "UsagePoint",
            "usage point 'IVRS-9999' has no meter in master data (no consumer with that IVRS number"
            " and an installed meter); 1 values not stored",
        )
    ]
    assert stored_intervals(session) == [("S00000203", "kwh", "2026-11-27T01:15", 1.5, 15, "cim:HES-MP-01")]
    assert session.execute(text("SELECT count(*) FROM quarantined_readings")).scalar_one() == 0
