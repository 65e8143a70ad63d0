"""Relay (load-switch) events from the HES — by the simulator after a command, or posted to
/api/v1/hes/callbacks as JSON or CIM EndDeviceEvents — are stored in the event store like every
meter event, and set the consumer's supply status from the meter's latest relay event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from integrations.cim import end_device_controls as edc
from service.masterdata.models import Consumer, Meter
from service.readings.models import IngestBatch, MeterEvent
from tests.disconnections.conftest import World

URL = "/api/v1/hes/callbacks"


def _events(session: Any, serial: str) -> list[tuple[int, datetime, str]]:
    session.expire_all()
    return list(
        session.execute(
            select(MeterEvent.code, MeterEvent.occurred_at, MeterEvent.source)
            .join(Meter, Meter.id == MeterEvent.meter_id)
            .where(Meter.serial_number == serial)
            .order_by(MeterEvent.occurred_at)
        ).tuples()
    )


def _supply(session: Any, ivrs: str) -> str:
    session.expire_all()
    return str(session.scalar(select(Consumer.supply_status).where(Consumer.ivrs_number == ivrs)))


def test_relay_events_are_stored_as_meter_events_and_set_supply_status_by_event_time(
    session: Any, client: Any, make_api_key: Any, world: World
) -> None:
    hes = make_api_key("hes:write", system="hes-a")
    ivrs, serial = world.ivrs["DIV1"][0], "SM100000"
    cut = {"event": {"meter": serial, "code": 301, "at": "2026-12-01T11:00:00+05:30"}}
    answer = client.post(URL, json=cut, headers=hes)
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["unknown"], answer.get_json()["events"]["stored"]) == (["meter SM100000"], 1)
    # Stored under the HES's code in master data (HES-A), not the API key's system name.
    assert _events(session, serial) == [(301, datetime(2026, 12, 1, 5, 30, tzinfo=UTC), "hes:HES-A")]
    assert _supply(session, ivrs) == "disconnected"

    # The same event again: unchanged, nothing new.
    again = client.post(URL, json=cut, headers=hes).get_json()
    assert (again["events"]["stored"], again["events"]["unchanged"]) == (0, 1)
    # An older "connected" arriving late is stored but does not undo the newer disconnection.
    late = {"event": {"meter": serial, "code": 302, "at": "2026-12-01T09:00:00+05:30"}}
    assert client.post(URL, json=late, headers=hes).get_json()["events"]["stored"] == 1
    assert _supply(session, ivrs) == "disconnected"
    # A newer reconnection as CIM EndDeviceEvents (IS 15959 302 as 0.31.26.42) restores supply.
    body = edc.relay_events_message(command_id="NO-SUCH-CMD", meter=serial, is_code=302,
                                    created="2026-12-01T08:00:00Z")  # fmt: skip
    answer = client.post(URL, data=body, headers={**hes, "Content-Type": "application/xml"})
    assert answer.status_code == 200 and answer.get_json()["events"]["stored"] == 1
    assert [code for code, _, _ in _events(session, serial)] == [302, 301, 302]
    assert _supply(session, ivrs) == "connected"
    # Another consumer is untouched.
    assert _supply(session, world.ivrs["DIV1"][1]) == "connected"


def test_hostile_or_unknown_relay_events_are_refused_or_quarantined(
    session: Any, client: Any, make_api_key: Any, world: World
) -> None:
    hes = make_api_key("hes:write", system="hes-a")
    for body in ({"event": {"meter": "SM100000", "code": 999}}, {"event": {"code": 301}},
                 {"event": {"meter": 5, "code": 301}}):  # fmt: skip
        refused = client.post(URL, json=body, headers=hes)
        assert (refused.status_code, refused.get_json()["error"]) == (400, "unreadable_callback")
    future = {"event": {"meter": "SM100001", "code": 301, "at": "2099-01-01T00:00:00Z"}}
    answer = client.post(URL, json=future, headers=hes).get_json()
    assert (
        answer["events"]["rejected"] == 1
        and answer["events"]["rejects"][0]["reason"] == "timestamp is in the future"
    )
    assert _supply(session, world.ivrs["DIV1"][1]) == "connected"
    stranger = {"event": {"meter": "NOT-OURS", "code": 301, "at": "2026-12-01T11:00:00+05:30"}}
    answer = client.post(URL, json=stranger, headers=hes)
    assert answer.status_code == 200 and answer.get_json()["events"]["quarantined"] == 1
    # A meter behind no known HES: the events are stored under the calling system's name.
    assert session.scalar(select(IngestBatch.source).order_by(IngestBatch.id.desc()).limit(1)) == "hes:hes-a"
    # Not logged in as a HES: refused before anything is read.
    assert client.post(URL, json=stranger).status_code == 401
