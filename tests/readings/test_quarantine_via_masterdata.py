"""Readings that arrive before their meter are replayed when billing sends the meter."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

SAMPLES = Path(__file__).resolve().parent.parent / "integrations" / "samples"
JSON = {"Content-Type": "application/json"}


def test_meter_created_through_masterdata_api_releases_its_quarantined_readings(
    client: Any, session: Any, make_api_key: Callable[..., dict[str, str]], run_jobs: Callable[..., int]
) -> None:
    from service.masterdata.models import OrgUnit

    session.execute(insert(OrgUnit).values(code="T", name="T", level="discom", path="/T/"))
    session.commit()
    hes = make_api_key("readings:write", system="hes-a")
    billing = make_api_key("masterdata:write", system="billing")
    body = (SAMPLES / "hes_readings.json").read_bytes().replace(b"S00000201", b"S00000999")

    answer = client.post("/api/v1/hes/readings", data=body, headers={**hes, **JSON}).get_json()
    assert answer["quarantined"] == 13  # 8 of S00000999, 5 of S00000202 (also unknown here)
    stored = "SELECT count(*) FROM interval_readings r JOIN meters m ON m.id = r.meter_id WHERE m.serial_number = 'S00000999'"

    meter = {
        "serial_number": "S00000999",
        "make": "Genus Power",
        "meter_class": "smart_1ph",
        "org_unit_code": "T",
    }
    upserted = client.post("/api/v1/masterdata/meters", json=[meter], headers=billing).get_json()
    assert upserted["created"] == 1
    run_jobs("ingest")
    assert session.execute(text(stored)).scalar_one() == 6  # 2 block-load intervals x kwh, kvah, voltage_r
    waiting = "SELECT subject_code, sum(row_count) FROM quarantined_readings GROUP BY 1"
    assert session.execute(text(waiting)).all() == [("S00000202", 5)]

    # An idempotent repeat of the same meter creates nothing and queues no replay.
    again = client.post("/api/v1/masterdata/meters", json=[meter], headers=billing).get_json()
    assert (again["created"], again["unchanged"]) == (0, 1)
    assert run_jobs("ingest") == 0
