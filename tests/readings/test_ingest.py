"""The one ingest path: stored, unchanged on re-delivery, revisions, rejects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import text

from tests.readings.conftest import day_of, intervals_batch, stored_intervals


def test_new_intervals_are_stored_raw_with_source_and_batch(session: Any, meters: Any, ingest: Any) -> None:
    result = ingest(intervals_batch(day_of("M1", [0.1, 0.2, 0.3]), message_id="msg-1"))

    assert (result.stored, result.unchanged, result.revised, result.quarantined, result.rejects) == (
        3,
        0,
        0,
        0,
        [],
    )
    rows = stored_intervals(session, meters["M1"])
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("kwh", datetime(2026, 10, 5, 0, 15, tzinfo=UTC), 0.1, "raw"),
        ("kwh", datetime(2026, 10, 5, 0, 30, tzinfo=UTC), 0.2, "raw"),
        ("kwh", datetime(2026, 10, 5, 0, 45, tzinfo=UTC), 0.3, "raw"),
    ]
    meta = session.execute(text("SELECT DISTINCT source, batch_id FROM interval_readings")).all()
    assert meta == [("hes:TEST", result.batch_id)]
    batch = session.execute(
        text("SELECT source, message_id, status, counts, meter_ids, first_at, last_at FROM ingest_batches")
    ).one()
    assert batch.source == "hes:TEST" and batch.message_id == "msg-1" and batch.status == "stored"
    assert batch.counts["stored"] == 3 and batch.counts["by_measure"]["interval"]["stored"] == 3
    assert batch.meter_ids == [meters["M1"]]
    assert (batch.first_at, batch.last_at) == (
        datetime(2026, 10, 5, 0, 15, tzinfo=UTC),
        datetime(2026, 10, 5, 0, 45, tzinfo=UTC),
    )


def test_redelivery_of_identical_data_changes_nothing(session: Any, meters: Any, ingest: Any) -> None:
    first = ingest(intervals_batch(day_of("M1", [0.1, 0.2]) + day_of("M2", [1.0])))
    before = session.execute(text("SELECT * FROM interval_readings ORDER BY 1, 2, 3")).all()

    again = ingest(intervals_batch(day_of("M1", [0.1, 0.2]) + day_of("M2", [1.0]), source="hes:OTHER"))

    assert (again.stored, again.unchanged, again.revised) == (0, 3, 0)
    assert session.execute(text("SELECT * FROM interval_readings ORDER BY 1, 2, 3")).all() == before
    assert session.execute(text("SELECT count(*) FROM reading_revisions")).scalar() == 0
    assert again.batch_id != first.batch_id


def test_different_value_for_stored_key_keeps_old_as_revision(session: Any, meters: Any, ingest: Any) -> None:
    first = ingest(intervals_batch(day_of("M1", [0.1, 0.2]), source="amr-cdf"))
    second = ingest(intervals_batch(day_of("M1", [0.1, 0.25, 0.3]), source="hes:TEST"))

    assert (second.stored, second.unchanged, second.revised) == (1, 1, 1)
    rows = stored_intervals(session, meters["M1"])
    assert [r[2] for r in rows] == [0.1, 0.25, 0.3]
    rev = session.execute(text("SELECT * FROM reading_revisions")).one()
    assert rev.measure == "interval" and rev.subject_id == meters["M1"] and rev.channel == "kwh"
    assert rev.at == datetime(2026, 10, 5, 0, 30, tzinfo=UTC)
    assert (rev.old_value, rev.old_quality, rev.old_source, rev.old_batch_id) == (
        0.2,
        "raw",
        "amr-cdf",
        first.batch_id,
    )
    assert (rev.new_value, rev.new_source, rev.new_batch_id) == (0.25, "hes:TEST", second.batch_id)
    assert rev.replaced_at is not None
    replaced = session.execute(
        text("SELECT source, batch_id FROM interval_readings WHERE value = 0.25")
    ).one()
    assert tuple(replaced) == ("hes:TEST", second.batch_id)


def test_duplicate_key_inside_one_batch_rejects_rows_after_the_first(
    session: Any, meters: Any, ingest: Any
) -> None:
    rows = day_of("M1", [0.1, 0.2])
    result = ingest(intervals_batch([*rows, ("M1", "kwh", rows[0][2], 9.9)]))

    assert result.stored == 2
    assert result.rejects == [
        {
            "locator": "intervals[2]",
            "meter": "M1",
            "timestamp": "2026-10-05T00:15:00Z",
            "field": "key",
            "reason": "duplicate of an earlier interval (same meter, channel and end) in this batch",
        }
    ]
    assert [r[2] for r in stored_intervals(session, meters["M1"])] == [0.1, 0.2]


def test_unreadable_rows_are_rejected_and_good_rows_kept(session: Any, meters: Any, ingest: Any) -> None:
    future = np.datetime64(datetime.now(UTC).replace(tzinfo=None), "s") + np.timedelta64(1, "D")
    future -= future.astype(np.int64) % 900
    batch = intervals_batch(
        [
            ("M1", "kwh", "2026-10-05T00:15:00", 0.1),  # good
            ("M1", "kwh", "2026-10-05T00:30:00", float("nan")),
            ("M1", "kwh", "2026-10-05T00:37:00", 0.3),  # off the 15-min grid
            ("M1", "kwh", future, 0.4),
            ("M1", "kwh_total", "2026-10-05T01:00:00", 0.5),
            ("", "kwh", "2026-10-05T01:15:00", 0.6),
            ("M1", "kwh", "NaT", 0.7),
            ("M1", "kwh", "1999-12-31T23:45:00", 0.8),
        ]
    )
    result = ingest(batch)

    assert result.stored == 1
    assert [(r["locator"], r["field"], r["reason"]) for r in result.rejects] == [
        ("intervals[1]", "value", "value is not a number"),
        ("intervals[2]", "interval_end", "interval end is not on the 15-minute grid"),
        ("intervals[3]", "interval_end", "timestamp is in the future"),
        ("intervals[4]", "channel", "unknown channel 'kwh_total'"),
        ("intervals[5]", "meter", "missing meter"),
        ("intervals[6]", "interval_end", "missing or unreadable timestamp"),
        ("intervals[7]", "interval_end", "timestamp before 2000-01-01 is not plausible"),
    ]
    assert [r[2] for r in stored_intervals(session, meters["M1"])] == [0.1]
    stored = session.execute(text("SELECT rejects FROM ingest_batches")).scalar_one()
    assert stored == result.rejects


def test_new_batch_of_several_channels_and_meters_is_stored_whole(
    session: Any, meters: Any, ingest: Any
) -> None:
    rows = (
        day_of("M2", [230.5, 231.0], channel="voltage_r")
        + day_of("M1", [0.1, 0.2])
        + day_of("M2", [0.3], channel="kvarh_lag")
        + day_of("M1", [4.5], channel="current_r")
    )
    result = ingest(intervals_batch(rows))

    assert (result.stored, result.rejects) == (6, [])
    assert [(r[0], r[2]) for r in stored_intervals(session, meters["M1"])] == [
        ("current_r", 4.5),
        ("kwh", 0.1),
        ("kwh", 0.2),
    ]
    assert [(r[0], r[2]) for r in stored_intervals(session, meters["M2"])] == [
        ("kvarh_lag", 0.3),
        ("voltage_r", 230.5),
        ("voltage_r", 231.0),
    ]


def test_batch_overlapping_stored_span_merges_new_and_existing_keys(
    session: Any, meters: Any, ingest: Any
) -> None:
    ingest(intervals_batch(day_of("M1", [0.1, 0.2])))
    result = ingest(intervals_batch(day_of("M1", [0.1, 0.2, 0.3, 0.4]) + day_of("M2", [9.0])))

    assert (result.stored, result.unchanged, result.revised) == (3, 2, 0)
    assert [r[2] for r in stored_intervals(session, meters["M1"])] == [0.1, 0.2, 0.3, 0.4]
