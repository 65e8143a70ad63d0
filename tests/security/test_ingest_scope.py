"""Issue 20 item 1: an API key limited to an org unit writes only rows of that org unit."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

JSON = {"Content-Type": "application/json"}
CSV = {"Content-Type": "text/csv"}


def _count(session: Any, sql: str, **params: Any) -> int:
    session.expire_all()
    return int(session.execute(text(sql), params).scalar_one())


def _east_key(make_api_key: Callable[..., dict[str, str]], org: dict[str, int]) -> dict[str, str]:
    return make_api_key("readings:write", "events:write", system="east-hes", org_unit_id=org["east"])


def test_scoped_key_writes_intervals_of_its_org_unit_and_is_refused_the_others_per_row(
    client: Any, session: Any, grid: dict[str, int], org: dict[str, int], make_api_key: Any
) -> None:
    body = {
        "message_id": "E-1",
        "hes": "HES-E",
        "readings": [
            {"meter": m, "profile": "block_load", "interval_minutes": 15,
             "values": [{"end": "2026-11-27T00:15:00+05:30", "kwh": 0.5}]}
            for m in ("M1", "M3")
        ],
    }  # fmt: skip
    response = client.post(
        "/api/v1/hes/readings", data=json.dumps(body), headers={**_east_key(make_api_key, org), **JSON}
    )
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["stored"] == 1
    assert [(r["meter"], r["field"], r["reason"]) for r in answer["rejected"]] == [
        ("M3", "meter", "meter 'M3' is outside the org unit of this API key")
    ]
    assert _count(session, "SELECT count(*) FROM interval_readings WHERE meter_id = :m", m=grid["M1"]) == 1
    assert _count(session, "SELECT count(*) FROM interval_readings WHERE meter_id = :m", m=grid["M3"]) == 0


def test_scoped_key_cannot_revise_another_org_units_stored_value(
    client: Any, session: Any, grid: dict[str, int], org: dict[str, int], make_api_key: Any
) -> None:
    def push(value: float, headers: dict[str, str]) -> Any:
        body = {"message_id": None, "hes": "H", "readings": [
            {"meter": "M3", "profile": "block_load", "interval_minutes": 15,
             "values": [{"end": "2026-11-27T00:15:00+05:30", "kwh": value}]}]}  # fmt: skip
        return client.post("/api/v1/hes/readings", data=json.dumps(body), headers={**headers, **JSON})

    assert push(0.25, make_api_key("readings:write", system="discom-hes")).get_json()["stored"] == 1
    refused = push(99.0, _east_key(make_api_key, org)).get_json()
    assert (refused["stored"], refused["revised"], len(refused["rejected"])) == (0, 0, 1)
    session.expire_all()
    assert session.execute(
        text("SELECT value FROM interval_readings WHERE meter_id = :m"), {"m": grid["M3"]}
    ).scalars().all() == [0.25]
    assert _count(session, "SELECT count(*) FROM reading_revisions") == 0


def test_scoped_key_is_refused_events_scalar_reads_and_scada_energy_of_other_org_units(
    client: Any, session: Any, grid: dict[str, int], org: dict[str, int], make_api_key: Any
) -> None:
    headers = _east_key(make_api_key, org)
    events = {"message_id": "EV", "hes": "H", "events": [
        {"meter": m, "code": 201, "occurred_at": "2026-11-27T14:10:05+05:30"} for m in ("M1", "M3")]}  # fmt: skip
    answer = client.post(
        "/api/v1/hes/events", data=json.dumps(events), headers={**headers, **JSON}
    ).get_json()
    assert answer["stored"] == 1 and [r["meter"] for r in answer["rejected"]] == ["M3"]
    reads = {"message_id": "R", "source": "billing", "reads": [
        {"meter": m, "read_at": "2026-11-05T11:30:00+05:30", "status": "normal", "kwh": 10.0}
        for m in ("M2", "M3")]}  # fmt: skip
    answer = client.post(
        "/api/v1/billing/scalar-reads", data=json.dumps(reads), headers={**headers, **JSON}
    ).get_json()
    assert answer["stored"] == 1 and [r["meter"] for r in answer["rejected"]] == ["M3"]
    energy = {"message_id": "S", "source": "SCADA", "energy": [
        {"kind": "feeder", "code": code, "interval_minutes": 60,
         "values": [{"end": "2026-11-27T01:00:00+05:30", "kwh": 300.0}]} for code in ("F-E", "F-W")]}  # fmt: skip
    answer = client.post(
        "/api/v1/scada/energy", data=json.dumps(energy), headers={**headers, **JSON}
    ).get_json()
    assert answer["stored"] == 1
    assert [(r["field"], r["reason"]) for r in answer["rejected"]] == [
        ("code", "feeder 'F-W' is outside the org unit of this API key")
    ]
    assert _count(session, "SELECT count(*) FROM meter_events") == 1
    assert _count(session, "SELECT count(*) FROM register_reads WHERE meter_id = :m", m=grid["M3"]) == 0
    assert _count(session, "SELECT count(*) FROM network_energy WHERE network_id = :f", f=grid["F-W"]) == 0


def test_quarantined_rows_of_a_scoped_key_are_not_released_into_another_org_unit(
    client: Any, session: Any, grid: dict[str, int], org: dict[str, int], make_api_key: Any
) -> None:
    from service.readings import replay
    from tests.readings.conftest import add_meter

    body = {"message_id": "Q", "hes": "H", "readings": [
        {"meter": "NEW-W", "profile": "block_load", "interval_minutes": 15,
         "values": [{"end": "2026-11-27T00:15:00+05:30", "kwh": 0.5}]}]}  # fmt: skip
    answer = client.post(
        "/api/v1/hes/readings", data=json.dumps(body), headers={**_east_key(make_api_key, org), **JSON}
    ).get_json()
    assert answer["quarantined"] == 1
    meter_id = add_meter(session, "NEW-W", org["west"])
    session.commit()
    replay.replay(session())
    session.commit()
    assert _count(session, "SELECT count(*) FROM interval_readings WHERE meter_id = :m", m=meter_id) == 0
    assert _count(session, "SELECT count(*) FROM quarantined_readings") == 0
    rejects = session.execute(
        text(
            "SELECT rejects FROM ingest_batches WHERE source <> 'hes:H' OR id > :b ORDER BY id DESC LIMIT 1"
        ),
        {"b": answer["batch_id"]},
    ).scalar_one()
    assert [r["reason"] for r in rejects] == ["meter 'NEW-W' is outside the org unit of this API key"]
