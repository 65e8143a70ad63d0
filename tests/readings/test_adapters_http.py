"""Adapter endpoints end to end: real sample messages through parsing and the store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text

from integrations.cim.event_types import unmapped_code
from tests.readings.conftest import add_ht_amr_meter, add_meter

SAMPLES = Path(__file__).resolve().parent.parent / "integrations" / "samples"
JSON = {"Content-Type": "application/json"}
# These callers read JSON answers (a CIM caller without this Accept gets a ResponseMessage).
XML = {"Content-Type": "application/xml", "Accept": "application/json"}
CSV = {"Content-Type": "text/csv"}


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.fixture
def grid(session: Any) -> dict[str, int]:
    """One org unit with the sample files' meters, a feeder and a DTR."""
    from service.masterdata.models import Dtr, Feeder, OrgUnit

    org = session.execute(
        insert(OrgUnit).values(code="T", name="T", level="discom", path="/T/").returning(OrgUnit.id)
    ).scalar_one()
    ids = {serial: add_meter(session, serial, org) for serial in ("S00000201", "S00000202")}
    ids["M00000101"] = add_ht_amr_meter(session, org)
    ids["FDR-001"] = session.execute(
        insert(Feeder)
        .values(code="FDR-001", name="F1", voltage_kv=11, feeder_type="urban", org_unit_id=org)
        .returning(Feeder.id)
    ).scalar_one()
    ids["DTR-0001"] = session.execute(
        insert(Dtr).values(code="DTR-0001", name="D1", capacity_kva=100, org_unit_id=org).returning(Dtr.id)
    ).scalar_one()
    session.commit()
    return ids


@pytest.fixture
def writer(make_api_key: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_api_key("readings:write", "events:write", system="hes-a")


def intervals(session: Any, serial: str, channel: str = "kwh") -> list[tuple[str, float, str]]:
    rows = session.execute(
        text(
            "SELECT to_char(i.interval_end AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI'), i.value, i.quality"
            " FROM interval_readings i JOIN meters m ON m.id = i.meter_id"
            " WHERE m.serial_number = :s AND i.channel = :c ORDER BY i.interval_end"
        ),
        {"s": serial, "c": channel},
    )
    return [tuple(r) for r in rows]


def test_hes_readings_push_stores_intervals_and_registers(
    client: Any, session: Any, grid: Any, writer: Any
) -> None:
    response = client.post(
        "/api/v1/hes/readings", data=sample("hes_readings.json"), headers={**writer, **JSON}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["stored"], body["unchanged"], body["revised"], body["quarantined"], body["rejected"]) == (
        6 + 2 + 5,
        0,
        0,
        0,
        [],
    )
    assert body["message_id"] == "HESA-20261128-0001" and body["batch_id"] > 0
    assert intervals(session, "S00000201") == [
        ("2026-11-26T18:45", 0.12, "raw"),
        ("2026-11-26T19:00", 0.11, "raw"),
    ]
    md = session.execute(
        text("SELECT value, occurred_at AT TIME ZONE 'UTC' FROM register_reads WHERE channel = 'md_kw'")
    ).one()
    assert (md[0], md[1].isoformat()) == (3.25, "2026-10-12T14:45:00")


def test_redelivery_changes_nothing_and_a_new_value_is_a_revision(
    client: Any, session: Any, grid: Any, writer: Any
) -> None:
    body = sample("hes_readings.json")
    client.post("/api/v1/hes/readings", data=body, headers={**writer, **JSON})
    again = client.post("/api/v1/hes/readings", data=body, headers={**writer, **JSON}).get_json()
    assert (again["stored"], again["unchanged"], again["revised"]) == (0, 13, 0)
    changed = body.replace(b'"kwh": 0.12', b'"kwh": 0.15')
    revised = client.post("/api/v1/hes/readings", data=changed, headers={**writer, **JSON}).get_json()
    assert (revised["stored"], revised["unchanged"], revised["revised"]) == (0, 12, 1)
    assert intervals(session, "S00000201")[0][:2] == ("2026-11-26T18:45", 0.15)
    old = session.execute(text("SELECT old_value, new_value FROM reading_revisions")).one()
    assert tuple(old) == (0.12, 0.15)


def test_row_faults_are_reported_and_good_rows_of_the_same_push_are_kept(
    client: Any, session: Any, grid: Any, writer: Any
) -> None:
    response = client.post(
        "/api/v1/hes/readings", data=sample("hes_readings_row_faults.json"), headers={**writer, **JSON}
    )
    body = response.get_json()
    assert response.status_code == 200 and body["stored"] == 1
    assert [(r["locator"], r["field"]) for r in body["rejected"]] == [
        ("readings[0].values[1]", "kwh"),
        ("readings[0].values[2]", "frequency_hz"),
        ("readings[0].values[4]", "end"),
        ("readings[1]", "meter"),
        ("readings[2]", "profile"),
        ("readings[0].values[3]", "kwh"),
        ("readings[0].values[6]", "kwh"),
        ("readings[0].values[5]", "kwh"),
    ]
    assert body["rejected"][0] == {
        "locator": "readings[0].values[1]",
        "meter": "S00000201",
        "timestamp": "2026-11-27T00:30:00+05:30",
        "field": "kwh",
        "reason": "not a number: 'lots'",
    }
    assert intervals(session, "S00000201") == [("2026-11-26T18:45", 0.12, "raw")]


def test_unknown_meter_is_quarantined_then_replayed_when_it_arrives(
    client: Any, session: Any, grid: Any, writer: Any, run_jobs: Callable[..., int]
) -> None:
    from service.readings import jobs

    body = sample("hes_readings.json").replace(b"S00000201", b"S00000999")
    answer = client.post("/api/v1/hes/readings", data=body, headers={**writer, **JSON}).get_json()
    assert (answer["quarantined"], answer["stored"]) == (8, 5)
    assert intervals(session, "S00000999") == []
    org = session.execute(text("SELECT id FROM org_units")).scalar_one()
    add_meter(session, "S00000999", org)
    jobs.request_replay(session)
    session.commit()
    run_jobs("ingest")
    assert intervals(session, "S00000999") == [
        ("2026-11-26T18:45", 0.12, "raw"),
        ("2026-11-26T19:00", 0.11, "raw"),
    ]


def test_hes_events_are_stored_by_is_15959_code(client: Any, session: Any, grid: Any, writer: Any) -> None:
    body = client.post(
        "/api/v1/hes/events", data=sample("hes_events.json"), headers={**writer, **JSON}
    ).get_json()
    assert body["stored"] == 2 and [r["field"] for r in body["rejected"]] == ["code"]
    assert session.execute(text("SELECT code FROM meter_events ORDER BY occurred_at")).scalars().all() == [
        201,
        202,
    ]


def test_cim_meter_readings_and_end_device_events(client: Any, session: Any, grid: Any, writer: Any) -> None:
    readings = client.post(
        "/api/v1/cim/meter-readings", data=sample("cim_meter_readings.xml"), headers={**writer, **XML}
    )
    body = readings.get_json()
    assert readings.status_code == 200 and body["stored"] == 5 + 1
    assert [r["field"] for r in body["rejected"]] == ["ReadingType", "kwh"]
    assert intervals(session, "S00000201") == [
        ("2026-11-26T19:00", 0.21, "raw"),
        ("2026-11-26T19:30", 0.19, "raw"),
        ("2026-11-26T20:00", 0.25, "raw"),
    ]
    events = client.post(
        "/api/v1/cim/end-device-events",
        data=sample("cim_end_device_events.xml"),
        headers={**writer, "Content-Type": "text/xml", "Accept": "application/json"},
    ).get_json()
    assert events["stored"] == 3  # the unmapped type is stored too, under its own negative code
    assert session.execute(text("SELECT code FROM meter_events ORDER BY occurred_at")).scalars().all() == [
        201,
        101,
        unmapped_code("0.99.99.99"),
    ]


def test_cdf_body_is_stored_and_nameplate_mismatch_reported(
    client: Any, session: Any, grid: Any, writer: Any
) -> None:
    data = sample("cdf_ht_meter.xml").replace(b"<G8>100/5</G8>", b"<G8>200/5</G8>")
    response = client.post("/api/v1/amr/cdf?file_name=ht.xml", data=data, headers={**writer, **XML})
    body = response.get_json()
    assert response.status_code == 200 and body["message_id"] == "ht.xml"
    assert body["stored"] == 6 + 8 + 2
    assert [(r["locator"], r["field"], r["reason"]) for r in body["rejected"]][1:] == [
        (
            "D1/G8",
            "ct_ratio",
            "nameplate mismatch: file says 200/5, master data says 100/5 (readings stored; check the meter)",
        )
    ]
    assert intervals(session, "M00000101")[0] == ("2026-11-26T19:00", 41.5, "raw")


def test_scada_csv_and_json_store_network_energy(client: Any, session: Any, grid: Any, writer: Any) -> None:
    csv_body = client.post(
        "/api/v1/scada/energy", data=sample("scada_energy.csv"), headers={**writer, **CSV}
    ).get_json()
    assert csv_body["stored"] == 3 and [r["locator"] for r in csv_body["rejected"]] == [
        "line 6",
        "line 7",
        "line 5",
    ]
    json_body = client.post(
        "/api/v1/scada/energy", data=sample("scada_energy.json"), headers={**writer, **JSON}
    ).get_json()
    assert (json_body["stored"], json_body["unchanged"]) == (2, 1)
    assert session.execute(text("SELECT count(*) FROM network_energy")).scalar_one() == 5


def test_scalar_reads_keep_their_status(client: Any, session: Any, grid: Any, writer: Any) -> None:
    org = session.execute(text("SELECT id FROM org_units")).scalar_one()
    for serial in ("M00000301", "M00000303"):
        add_meter(session, serial, org)
    session.commit()
    body = client.post(
        "/api/v1/billing/scalar-reads", data=sample("scalar_reads.csv"), headers={**writer, **CSV}
    ).get_json()
    assert body["stored"] == 3 and len(body["rejected"]) == 3  # M00000302 (door locked) is quarantined
    assert body["quarantined"] == 1
    rows = session.execute(
        text("SELECT channel, value, reading_status FROM register_reads WHERE kind = 'scalar' ORDER BY value")
    ).all()
    assert [tuple(r) for r in rows] == [
        ("md_kw", 2.1, "normal"),
        ("kwh", 3310.0, "meter_defective"),
        ("kwh", 4521.5, "normal"),
    ]


@pytest.mark.parametrize(
    ("path", "name", "headers"),
    [
        ("/api/v1/cim/meter-readings", "billion_laughs.xml", XML),
        ("/api/v1/amr/cdf", "external_entity.xml", XML),
        ("/api/v1/amr/cdf", "cdf_truncated.xml", XML),
        ("/api/v1/hes/readings", "cim_meter_readings.xml", JSON),
    ],
)
def test_unparseable_or_hostile_body_is_refused_with_400_and_nothing_stored(
    client: Any, session: Any, grid: Any, writer: Any, path: str, name: str, headers: dict[str, str]
) -> None:
    response = client.post(path, data=sample(name), headers={**writer, **headers})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "unparseable" and body["message"]
    assert session.execute(text("SELECT count(*) FROM ingest_batches")).scalar_one() == 0


def test_hostile_xml_error_names_the_reason(client: Any, grid: Any, writer: Any) -> None:
    body = client.post(
        "/api/v1/cim/meter-readings", data=sample("billion_laughs.xml"), headers={**writer, **XML}
    ).get_json()
    assert body == {
        "error": "unparseable",
        "message": "document type declarations (DTD) are not accepted",
        "reason_code": "forbidden_xml",
    }


def test_wrong_content_type_is_415(client: Any, grid: Any, writer: Any) -> None:
    response = client.post(
        "/api/v1/cim/meter-readings", data=sample("cim_meter_readings.xml"), headers={**writer, **JSON}
    )
    assert response.status_code == 415
    assert response.get_json()["error"] == "unsupported_media_type"
    assert client.post("/api/v1/hes/readings", data=b"{}", headers=writer).status_code == 415


def test_body_over_the_limit_is_413(app: Any, client: Any, session: Any, grid: Any, writer: Any) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        response = client.post("/api/v1/amr/cdf", data=sample("cdf_ht_meter.xml"), headers={**writer, **XML})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    assert response.get_json() == {
        "error": "too_large",
        "message": "The body is over the limit of 1024 bytes.",
        "limit": 1024,
    }
    assert session.execute(text("SELECT count(*) FROM ingest_batches")).scalar_one() == 0


def test_scopes_are_enforced(client: Any, grid: Any, make_api_key: Callable[..., dict[str, str]]) -> None:
    reader = make_api_key("readings:read", system="hes-a")
    response = client.post("/api/v1/hes/events", data=sample("hes_events.json"), headers={**reader, **JSON})
    assert response.status_code == 403 and response.get_json()["required_scope"] == "events:write"
    assert client.post("/api/v1/hes/events", data=sample("hes_events.json"), headers=JSON).status_code == 401


STORED_TABLES = ("interval_readings", "register_reads", "meter_events", "network_energy")

EVERY_ADAPTER = [
    ("/api/v1/hes/readings", "hes_readings.json", JSON),
    ("/api/v1/hes/events", "hes_events.json", JSON),
    ("/api/v1/amr/cdf", "cdf_ht_meter.xml", {"Content-Type": "application/xml"}),
    ("/api/v1/scada/energy", "scada_energy.json", JSON),
    ("/api/v1/scada/energy", "scada_energy.csv", CSV),
    ("/api/v1/billing/scalar-reads", "scalar_reads.json", JSON),
    ("/api/v1/billing/scalar-reads", "scalar_reads.csv", CSV),
]


def _stored(session: Any) -> dict[str, int]:
    counts = {t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in STORED_TABLES}  # noqa: S608
    # End the read: an open transaction holding the parent tables would block the next request's
    # partition creation (CREATE TABLE ... PARTITION OF waits for every lock on the parent).
    session.rollback()
    return counts


@pytest.mark.parametrize(("path", "name", "headers"), EVERY_ADAPTER)
def test_a_message_whose_every_row_is_refused_is_422_not_200(
    client: Any, session: Any, grid: Any, writer: Any, path: str, name: str, headers: dict[str, str]
) -> None:
    """Every value dated 2099 (in the future) is refused: the sender must not read 'safe' from a 2xx."""
    org = session.execute(text("SELECT id FROM org_units")).scalar_one()
    for serial in ("M00000301", "M00000303"):  # the scalar samples' meters
        add_meter(session, serial, org)
    session.commit()
    future = sample(name).replace(b"2026", b"2099")
    before = _stored(session)
    batches = session.execute(text("SELECT count(*) FROM ingest_batches")).scalar_one()

    refused = client.post(path, data=future, headers={**writer, **headers})

    assert refused.status_code == 422, refused.get_json()
    body = refused.get_json()
    assert body["error"] == "all_rows_rejected"
    assert body["message"] == "Every row was rejected; no value was stored."
    assert body["stored"] == 0 and len(body["rejected"]) > 0
    assert _stored(session) == before
    # The batch row stays: it is the record of what was refused and why.
    assert session.execute(text("SELECT count(*) FROM ingest_batches")).scalar_one() == batches + 1

    good = client.post(path, data=sample(name), headers={**writer, **headers})
    assert good.status_code == 200, good.get_json()
    assert sum(_stored(session).values()) > sum(before.values())


def test_a_message_with_no_values_is_422_empty(client: Any, session: Any, grid: Any, writer: Any) -> None:
    answer = client.post(
        "/api/v1/hes/events",
        data=b'{"message_id": "E-0", "hes": "HES-A", "events": []}',
        headers={**writer, **JSON},
    )
    assert answer.status_code == 422, answer.get_json()
    body = answer.get_json()
    assert (body["error"], body["stored"], body["rejected"]) == ("empty", 0, [])
    assert body["message"] == "The message carries no values; nothing was stored."
