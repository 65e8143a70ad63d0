"""The AMR drop folder: files ingested once, moved to processed/ or failed/ with the reason."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert, text

from tests.readings.conftest import add_ht_amr_meter

SAMPLES = Path(__file__).resolve().parent.parent / "integrations" / "samples"


@pytest.fixture
def drop(app: Flask) -> Path:
    from service import app_config

    folder: Path = app_config(app).amr_drop_dir
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file():
            path.unlink()
    return folder


@pytest.fixture
def ht_meter(session: Any) -> int:
    from service.masterdata.models import OrgUnit

    org = session.execute(
        insert(OrgUnit).values(code="T", name="T", level="discom", path="/T/").returning(OrgUnit.id)
    ).scalar_one()
    meter = add_ht_amr_meter(session, org)
    session.commit()
    return int(meter)


def put(drop: Path, name: str, data: bytes, age_seconds: float = 120) -> Path:
    path = drop / name
    path.write_bytes(data)
    then = time.time() - age_seconds
    os.utime(path, (then, then))
    return path


def stored_intervals(session: Any) -> int:
    return int(session.execute(text("SELECT count(*) FROM interval_readings")).scalar_one())


def test_scan_job_ingests_a_file_and_moves_it_to_processed(
    drop: Path, ht_meter: int, session: Any, redis: Any, run_jobs: Callable[..., int]
) -> None:
    from service.queues import INGEST, get_queue
    from service.readings.jobs import scan_amr_drop

    put(drop, "M00000101_20261127.xml", (SAMPLES / "cdf_ht_meter.xml").read_bytes())
    get_queue(INGEST).enqueue(scan_amr_drop)
    run_jobs(INGEST)
    assert stored_intervals(session) == 6
    assert not (drop / "M00000101_20261127.xml").exists()
    assert (drop / "processed" / "M00000101_20261127.xml").exists()
    result = json.loads((drop / "processed" / "M00000101_20261127.xml.result.json").read_text())
    assert (result["stored"], result["quarantined"]) == (16, 0)
    assert result["rejects"][0]["field"] == "INSTPARAM"


def test_flask_amr_scan_ingests_a_waiting_file_and_prints_its_outcome(
    app: Flask, drop: Path, ht_meter: int, session: Any
) -> None:
    put(drop, "M00000101_20261127.xml", (SAMPLES / "cdf_ht_meter.xml").read_bytes())
    put(drop, "young.xml", (SAMPLES / "cdf_ht_meter.xml").read_bytes(), age_seconds=0)
    answer = app.test_cli_runner().invoke(args=["amr", "scan"])
    assert answer.exit_code == 0, answer.output
    assert answer.output.startswith("processed M00000101_20261127.xml  {'stored': 16,")
    assert stored_intervals(session) == 6
    assert (drop / "young.xml").exists()  # younger than --min-age: left for the next scan


def test_unparseable_and_hostile_files_go_to_failed_with_a_reason_file(
    drop: Path, ht_meter: int, session: Any
) -> None:
    from service.readings.amr_drop import scan

    put(drop, "bomb.xml", (SAMPLES / "billion_laughs.xml").read_bytes())
    put(drop, "cut.xml", (SAMPLES / "cdf_truncated.xml").read_bytes())
    outcomes = scan(drop)
    assert sorted((o.name, o.status) for o in outcomes) == [("bomb.xml", "failed"), ("cut.xml", "failed")]
    assert (drop / "failed" / "bomb.xml.reason.txt").read_text() == (
        "forbidden_xml: document type declarations (DTD) are not accepted\n"
    )
    assert (drop / "failed" / "cut.xml.reason.txt").read_text().startswith("unparseable: not well-formed XML")
    assert session.execute(text("SELECT count(*) FROM ingest_batches")).scalar_one() == 0


def test_a_file_still_being_written_is_left_for_the_next_scan(
    drop: Path, ht_meter: int, session: Any
) -> None:
    from service.readings.amr_drop import scan

    put(drop, "fresh.xml", (SAMPLES / "cdf_ht_meter.xml").read_bytes(), age_seconds=0)
    (drop / "upload.xml.part").write_bytes(b"<CDF><UTILITY")
    assert scan(drop, min_age_seconds=30) == []
    assert (drop / "fresh.xml").exists() and (drop / "upload.xml.part").exists()
    assert [o.status for o in scan(drop, min_age_seconds=0)] == ["processed"]


def test_redelivered_file_changes_nothing_and_keeps_both_copies(
    drop: Path, ht_meter: int, session: Any
) -> None:
    from service.readings.amr_drop import scan

    data = (SAMPLES / "cdf_ht_meter.xml").read_bytes()
    put(drop, "a.xml", data)
    scan(drop)
    put(drop, "a.xml", data)
    (outcome,) = scan(drop)
    assert (outcome.detail["stored"], outcome.detail["unchanged"]) == (0, 16)
    assert (drop / "processed" / "a.xml").exists() and (drop / "processed" / "a.1.xml").exists()


def test_nameplate_mismatch_is_reported_and_readings_still_stored(
    drop: Path, ht_meter: int, session: Any
) -> None:
    from service.readings.amr_drop import scan

    data = (SAMPLES / "cdf_ht_meter.xml").read_bytes()
    data = data.replace(b"<G7>11000/110</G7>", b"<G7>33000/110</G7>").replace(
        b'NAME="Secure Meters"', b'NAME="Genus Power"'
    )
    put(drop, "m.xml", data)
    (outcome,) = scan(drop)
    mismatches = [(r["locator"], r["field"]) for r in outcome.detail["rejects"] if "nameplate" in r["reason"]]
    assert mismatches == [("D1/G7", "pt_ratio"), ("D1/G22", "make")]
    assert stored_intervals(session) == 6


def test_file_of_an_unknown_meter_is_processed_into_quarantine(
    drop: Path, ht_meter: int, session: Any
) -> None:
    from service.readings.amr_drop import scan

    data = (SAMPLES / "cdf_ht_meter.xml").read_bytes().replace(b"M00000101", b"M00000777")
    put(drop, "u.xml", data)
    (outcome,) = scan(drop)
    assert outcome.status == "processed" and outcome.detail["quarantined"] == 16
    assert stored_intervals(session) == 0
