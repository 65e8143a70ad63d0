"""Month partitions: created ahead by the daily job and on demand for a batch's months."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import text

from service.readings import jobs, partitions
from tests.readings.conftest import intervals_batch


def _partitions_of(session: Any, table: str) -> set[str]:
    return partitions.existing_partitions(session(), table)


def test_daily_job_creates_current_and_next_two_months_for_every_table(session: Any) -> None:
    created = partitions.ensure_ahead(session(), today=date(2031, 12, 17))
    session.commit()

    for table in partitions.PARTITIONED:
        assert {f"{table}_2031_12", f"{table}_2032_01", f"{table}_2032_02"} <= _partitions_of(session, table)
    assert len(created) == 3 * len(partitions.PARTITIONED)
    assert partitions.ensure_ahead(session(), today=date(2031, 12, 17)) == []  # idempotent


def test_partitions_ahead_job_is_scheduled_daily_and_commits_the_months_ahead(app: Any, session: Any) -> None:
    from service.ops.periodic import PERIODIC

    task = PERIODIC["readings.partitions_ahead"]
    assert (task.job, task.every_seconds) == (jobs.create_partitions_ahead, 86400)
    created = jobs.create_partitions_ahead(today=date(2033, 6, 5))
    expected = {
        f"{table}_{month}" for table in partitions.PARTITIONED for month in ("2033_06", "2033_07", "2033_08")
    }
    assert sorted(created) == sorted(expected)
    for table in partitions.PARTITIONED:
        assert {f"{table}_2033_06", f"{table}_2033_07", f"{table}_2033_08"} <= _partitions_of(session, table)
    assert jobs.create_partitions_ahead(today=date(2033, 6, 5)) == []  # committed: a re-run finds them


def test_batch_spanning_months_gets_its_partitions_on_demand(session: Any, meters: Any, ingest: Any) -> None:
    rows = [
        ("M1", "kwh", np.datetime64("2019-03-31T23:45:00"), 1.0),
        ("M1", "kwh", np.datetime64("2019-05-01T00:00:00"), 2.0),
    ]
    result = ingest(intervals_batch(rows))

    assert result.stored == 2
    assert {
        "interval_readings_2019_03",
        "interval_readings_2019_04",
        "interval_readings_2019_05",
    } <= _partitions_of(session, "interval_readings")
    by_partition = session.execute(
        text("SELECT tableoid::regclass::text, value FROM interval_readings ORDER BY value")
    ).all()
    assert by_partition == [("interval_readings_2019_03", 1.0), ("interval_readings_2019_05", 2.0)]


def test_partition_bounds_are_utc_months() -> None:
    assert partitions.months_between(date(2026, 11, 30), date(2027, 2, 1)) == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]
    assert partitions.partition_name("meter_events", date(2027, 1, 1)) == "meter_events_2027_01"
