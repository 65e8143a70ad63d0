"""Rows of meters not in master data wait in quarantine and are replayed when the meter arrives."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from service.readings import jobs
from tests.readings.conftest import add_meter, day_of, intervals_batch, stored_intervals


def test_unknown_meter_is_quarantined_then_replayed_when_the_meter_arrives(
    session: Any, org: Any, meters: Any, ingest: Any, run_jobs: Any
) -> None:
    result = ingest(intervals_batch(day_of("NEW-1", [0.5, 0.6]) + day_of("M1", [0.1]), message_id="m-7"))

    assert (result.stored, result.quarantined, result.rejects) == (1, 2, [])
    held = session.execute(
        text(
            "SELECT subject_kind, subject_code, measure, row_count, reason, source, message_id FROM quarantined_readings"
        )
    ).one()
    assert tuple(held) == (
        "meter",
        "NEW-1",
        "interval",
        2,
        "meter 'NEW-1' is not in master data",
        "hes:TEST",
        "m-7",
    )

    # Replay before the meter exists does nothing.
    assert jobs.replay_quarantine() == {"groups": 0, "rows": 0, "stored": 0}

    new_id = add_meter(session, "NEW-1", org["east"])
    jobs.request_replay(session())  # what a master-data upsert does in its transaction
    session.commit()
    run_jobs("ingest")

    assert [r[2] for r in stored_intervals(session, new_id)] == [0.5, 0.6]
    assert session.execute(text("SELECT count(*) FROM quarantined_readings")).scalar() == 0
    replay_batch = session.execute(
        text("SELECT source, message_id, actor, counts FROM ingest_batches ORDER BY id DESC LIMIT 1")
    ).one()
    assert replay_batch.source == "hes:TEST" and replay_batch.message_id == "m-7"
    assert replay_batch.actor == "system:quarantine-replay"
    assert replay_batch.counts["stored"] == 2


def test_replay_of_rows_already_stored_changes_nothing(
    session: Any, org: Any, meters: Any, ingest: Any
) -> None:
    ingest(intervals_batch(day_of("NEW-2", [0.5])))
    ingest(intervals_batch(day_of("NEW-2", [0.5])))  # re-delivered while still unknown
    add_meter(session, "NEW-2", org["east"])
    session.commit()

    assert jobs.replay_quarantine() == {"groups": 2, "rows": 2, "stored": 2}
    assert session.execute(text("SELECT count(*) FROM interval_readings")).scalar() == 1
    counts = (
        session.execute(text("SELECT counts FROM ingest_batches ORDER BY id DESC LIMIT 2")).scalars().all()
    )
    assert sorted((c["stored"], c["unchanged"]) for c in counts) == [(0, 1), (1, 0)]


def test_periodic_replay_is_registered_on_the_ingest_queue(app: Any) -> None:
    from service.ops.periodic import PERIODIC

    task = PERIODIC["readings.replay_quarantine"]
    assert (task.job, task.queue) == (jobs.replay_quarantine, "ingest")
