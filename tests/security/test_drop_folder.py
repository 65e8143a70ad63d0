"""Issue 20 item 7 (drop folder): a file that fails for its content is set aside with its reason
and the files after it are processed; a transient fault puts a file back and stops nothing."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import text

from service.config import Config
from tests.readings.test_adapters_amr_drop import SAMPLES, put


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_file_refused_for_its_content_goes_to_failed_and_later_files_are_processed(
    drop: Path, ht_meter: int, session: Any
) -> None:
    from service.readings.amr_drop import scan

    sample = (SAMPLES / "cdf_ht_meter.xml").read_bytes()
    poison = "A" + "x" * 210 + ".xml"  # its name is the message id: longer than the column
    put(drop, poison, sample)
    put(drop, "B_20261127.xml", sample)
    outcomes = scan(drop)
    assert [(o.name, o.status) for o in outcomes] == [(poison, "failed"), ("B_20261127.xml", "processed")]
    assert (drop / "failed" / (poison + ".reason.txt")).read_text() == (
        "field_too_long: message_id is 215 characters long; at most 200.\n"
    )
    assert (drop / "processed" / "B_20261127.xml").exists() and not (drop / poison).exists()
    assert session.execute(text("SELECT count(*) FROM ingest_batches")).scalar_one() == 1
    assert session.execute(text("SELECT count(*) FROM interval_readings")).scalar_one() == 6
    assert scan(drop) == []  # nothing left that fails again on every scan


def test_with_the_database_down_every_file_is_put_back_and_none_is_set_aside(
    drop: Path, test_config: Config
) -> None:
    from service import create_app
    from service.readings.amr_drop import scan

    sample = (SAMPLES / "cdf_ht_meter.xml").read_bytes()
    for name in ("A.xml", "B.xml", "C.xml"):
        put(drop, name, sample)
    down: Flask = create_app(
        test_config.with_(database_url=f"postgresql://postgres@127.0.0.1:{closed_port()}/cmdms")
    )
    with down.app_context():
        outcomes = scan(drop)
    assert [(o.name, o.status) for o in outcomes] == [
        ("A.xml", "retry"),
        ("B.xml", "retry"),
        ("C.xml", "retry"),
    ]
    assert sorted(p.name for p in drop.glob("*.xml")) == ["A.xml", "B.xml", "C.xml"]
    assert list((drop / "failed").iterdir()) == []
