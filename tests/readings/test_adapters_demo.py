"""Demo readings arrive through the real adapters, faults included."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text


def test_demo_seeds_readings_of_every_source_through_the_adapters(demo: Any, session: Any) -> None:
    sources = set(session.execute(text("SELECT source FROM ingest_batches")).scalars())
    assert {"amr-cdf", "hes:HES-A", "scalar:reading_app", "scada:SCADA"} <= sources
    by_class = dict(
        session.execute(
            text(
                "SELECT m.meter_class, count(*) FROM interval_readings i JOIN meters m ON m.id = i.meter_id"
                " GROUP BY m.meter_class"
            )
        ).all()
    )
    assert by_class.get("smart_1ph", 0) > 0 and by_class.get("lt_amr", 0) + by_class.get("ht_amr", 0) > 0
    statuses = set(
        session.execute(text("SELECT reading_status FROM register_reads WHERE kind = 'scalar'")).scalars()
    )
    assert "normal" in statuses
    assert session.execute(text("SELECT count(*) FROM network_energy")).scalar_one() > 0
    assert any(note.startswith("readings: ") for note in demo.notes)


def test_demo_faults_are_in_the_data(demo: Any, session: Any) -> None:
    # Gaps: some meter-days have fewer than the full day of intervals.
    short_days = session.execute(
        text(
            "SELECT count(*) FROM (SELECT meter_id, count(*) AS n, min(interval_minutes) AS p"
            " FROM interval_readings WHERE channel = 'kwh' GROUP BY meter_id) d WHERE n < 1440 / p"
        )
    ).scalar_one()
    assert short_days > 0
    zero_runs = session.execute(
        text("SELECT count(DISTINCT meter_id) FROM interval_readings WHERE channel = 'kwh' AND value = 0")
    ).scalar_one()
    assert zero_runs > 0
