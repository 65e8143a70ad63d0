"""Issue 20 items 5-8 and 10 at the adapters: implausible and negative values, NaN in snapshots,
over-long identifiers and deeply nested JSON are answered per row (or 400), never 500."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import text

JSON = {"Content-Type": "application/json"}
XML = {"Content-Type": "application/xml"}
SAMPLES = Path(__file__).resolve().parent.parent / "integrations" / "samples"


def _rows(session: Any, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    session.expire_all()
    return [tuple(r) for r in session.execute(text(sql), params)]


def _block(meter: str, values: list[dict[str, Any]]) -> dict[str, Any]:
    return {"meter": meter, "profile": "block_load", "interval_minutes": 15, "values": values}


def _post(client: Any, url: str, body: Any, headers: dict[str, str]) -> Any:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(url, data=data, headers={**headers, **JSON})


def test_implausible_and_negative_interval_values_are_refused_per_row_with_the_limit(
    client: Any, session: Any, grid: dict[str, int], make_api_key: Any
) -> None:
    headers = make_api_key("readings:write")
    body = {"message_id": "BIG", "hes": "H", "readings": [_block("M1", [
        {"end": "2026-11-27T00:15:00+05:30", "kwh": 1e308},
        {"end": "2026-11-27T00:30:00+05:30", "kwh": -0.5},
        {"end": "2026-11-27T00:45:00+05:30", "kwh": 0.5, "voltage_r": 1e9},
        {"end": "2026-11-27T01:00:00+05:30", "kwh": 0.25},
    ])]}  # fmt: skip
    answer = _post(client, "/api/v1/hes/readings", body, headers)
    assert answer.status_code == 200, answer.get_json()
    got = answer.get_json()
    assert got["stored"] == 2
    assert [(r["field"], r["reason"]) for r in got["rejected"]] == [
        ("value", "kwh 1e+308 is above the plausible limit of 1000000 kWh"),
        ("value", "kwh -0.5 is below the plausible limit of 0 kWh"),
        ("value", "voltage_r 1e+09 is above the plausible limit of 1000000 V"),
    ]
    assert _rows(session, "SELECT channel, value FROM interval_readings ORDER BY interval_end, channel") == [
        ("kwh", 0.5),
        ("kwh", 0.25),
    ]


def test_negative_cim_interval_kwh_is_refused_and_the_rest_of_the_message_kept(
    client: Any, session: Any, org: dict[str, int], make_api_key: Any
) -> None:
    from tests.readings.conftest import add_meter

    sample = (SAMPLES / "cim_meter_readings.xml").read_text()
    assert "<value>0.21</value>" in sample
    hostile = sample.replace("<value>0.21</value>", "<value>-0.21</value>", 1)
    headers = make_api_key("readings:write")
    add_meter(session, "S00000201", org["east"])
    session.commit()
    # A JSON caller keeps the JSON answer; a CIM caller gets the ResponseMessage (tests/readings).
    answer = client.post(
        "/api/v1/cim/meter-readings",
        data=hostile,
        headers={**headers, **XML, "Accept": "application/json"},
    )
    assert answer.status_code in (200, 207), answer.get_data(as_text=True)
    stored = _rows(session, "SELECT value FROM interval_readings WHERE channel = 'kwh' ORDER BY interval_end")
    assert (0.19,) in stored and (-0.21,) not in stored
    assert "kwh -0.21 is below the plausible limit of 0 kWh" in [
        r["reason"] for r in answer.get_json()["rejected"]
    ]


def test_negative_feeder_energy_from_scada_is_refused_with_a_reason(
    client: Any, session: Any, grid: dict[str, int], make_api_key: Any
) -> None:
    body = {"message_id": "S", "source": "SCADA", "energy": [
        {"kind": "feeder", "code": "F-E", "interval_minutes": 60,
         "values": [{"end": "2026-11-27T01:00:00+05:30", "kwh": -300.0},
                    {"end": "2026-11-27T02:00:00+05:30", "kwh": 310.0}]}]}  # fmt: skip
    got = _post(client, "/api/v1/scada/energy", body, make_api_key("readings:write")).get_json()
    assert got["stored"] == 1
    assert [(r["field"], r["reason"]) for r in got["rejected"]] == [
        ("value", "kwh -300 is below the plausible limit of 0 kWh")
    ]
    assert _rows(session, "SELECT value FROM network_energy") == [(310.0,)]


def test_nan_and_infinity_in_event_snapshots_keep_every_event(
    client: Any, session: Any, grid: dict[str, int], make_api_key: Any
) -> None:
    body = (
        '{"message_id": "EV-NAN", "hes": "H", "events": ['
        '{"meter": "M1", "code": 201, "occurred_at": "2026-11-27T14:10:05+05:30",'
        ' "snapshot": {"current_r": NaN, "voltage_r": Infinity, "pf": -Infinity, "ok": 1.5}},'
        '{"meter": "M2", "code": 202, "occurred_at": "2026-11-27T14:40:00+05:30", "snapshot": {"v": 230.0}}]}'
    )
    answer = _post(client, "/api/v1/hes/events", body, make_api_key("events:write"))
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["stored"], answer.get_json()["rejected"]) == (2, [])
    snapshots = _rows(session, "SELECT snapshot FROM meter_events ORDER BY meter_id")
    assert snapshots == [
        ({"current_r": "NaN", "voltage_r": "Infinity", "pf": "-Infinity", "ok": 1.5},),
        ({"v": 230.0},),
    ]
    # Of a meter not in master data, the snapshot is held in quarantine the same way.
    body = body.replace('"M1"', '"NOT-YET"').replace("EV-NAN", "EV-NAN-2")
    assert (
        _post(client, "/api/v1/hes/events", body, make_api_key("events:write")).get_json()["quarantined"] == 1
    )


def test_over_long_meter_serials_are_refused_per_row_naming_the_field_and_limit(
    client: Any, session: Any, grid: dict[str, int], make_api_key: Any
) -> None:
    long_serial = "M" * 5000
    body = {"message_id": "LONG", "hes": "H", "readings": [
        _block(long_serial, [{"end": "2026-11-27T00:15:00+05:30", "kwh": 0.5}]),
        _block("M1", [{"end": "2026-11-27T00:15:00+05:30", "kwh": 0.5}]),
    ]}  # fmt: skip
    got = _post(client, "/api/v1/hes/readings", body, make_api_key("readings:write")).get_json()
    assert (got["stored"], got["quarantined"]) == (1, 0)
    assert [(r["field"], r["reason"]) for r in got["rejected"]] == [
        ("meter", "meter is 5000 characters long; at most 40")
    ]
    assert _rows(session, "SELECT count(*) FROM quarantined_readings") == [(0,)]


def test_over_long_message_identity_is_refused_with_422_naming_field_and_limit(
    client: Any, session: Any, grid: dict[str, int], make_api_key: Any
) -> None:
    headers = make_api_key("readings:write")
    row = [_block("M1", [{"end": "2026-11-27T00:15:00+05:30", "kwh": 0.5}])]
    long_id = _post(
        client, "/api/v1/hes/readings", {"message_id": "x" * 300, "hes": "H", "readings": row}, headers
    )
    assert long_id.status_code == 422
    assert long_id.get_json() == {
        "error": "field_too_long",
        "message": "message_id is 300 characters long; at most 200.",
        "field": "message_id",
        "limit": 200,
    }
    long_hes = _post(
        client, "/api/v1/hes/readings", {"message_id": "ok", "hes": "H" * 100, "readings": row}, headers
    )
    assert (long_hes.status_code, long_hes.get_json()["field"]) == (422, "source")
    long_source = client.post(
        "/api/v1/scada/energy?source=" + "S" * 100,
        data="kind,code,interval_end,interval_minutes,channel,value\nfeeder,F-E,2026-11-27T01:00:00+05:30,60,kwh,8\n",
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert (long_source.status_code, long_source.get_json()["field"]) == (422, "source")
    assert _rows(session, "SELECT count(*) FROM ingest_batches") == [(0,)]
    assert _rows(session, "SELECT count(*) FROM interval_readings") == [(0,)]


def test_deeply_nested_json_is_a_400_on_every_json_endpoint(
    client: Any, grid: dict[str, int], make_api_key: Any
) -> None:
    headers = make_api_key("readings:write", "events:write", "masterdata:write", "workflows:write")
    deep = '{"hes": "H", "message_id": "D", "readings": ' + "[" * 100_000 + "]" * 100_000 + "}"
    for url in ("/api/v1/hes/readings", "/api/v1/scada/energy", "/api/v1/billing/scalar-reads",
                "/api/v1/masterdata/meters", "/api/v1/processes", "/api/v1/determinants/publish"):  # fmt: skip
        answer = _post(client, url, deep, headers)
        assert answer.status_code == 400, (url, answer.status_code)
        assert answer.get_json()["error"] in ("unparseable", "too_deeply_nested", "malformed_json"), url


def test_every_channel_has_plausibility_limits() -> None:
    from integrations.canonical import (
        INTERVAL_CHANNELS,
        INTERVAL_LIMITS,
        NETWORK_LIMITS,
        REGISTER_CHANNELS,
        REGISTER_LIMITS,
    )

    assert set(INTERVAL_LIMITS) == set(INTERVAL_CHANNELS) == set(NETWORK_LIMITS)
    assert set(REGISTER_LIMITS) == set(REGISTER_CHANNELS)
