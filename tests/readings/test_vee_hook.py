"""After commit each batch is queued for VEE; the job runs registered validators, then marks it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rq import Queue
from sqlalchemy import text
from sqlalchemy.orm import Session

from service.readings import hooks, jobs
from tests.readings.conftest import day_of, intervals_batch

SEEN: list[tuple[int, int]] = []


def _count_raw(session: Session, batch_id: int) -> None:
    """A validator as VEE will be: reads the batch's rows in the job's transaction."""
    raw = session.execute(
        text("SELECT count(*) FROM interval_readings WHERE batch_id = :b AND quality = 'raw'"),
        {"b": batch_id},
    ).scalar_one()
    SEEN.append((batch_id, raw))
    session.execute(
        text("UPDATE interval_readings SET quality = 'valid' WHERE batch_id = :b"), {"b": batch_id}
    )


@pytest.fixture
def no_validators() -> Iterator[None]:
    """The store's contract alone: VEE's own validator is set aside for these tests."""
    saved, saved_ingest = list(hooks.VALIDATORS), list(hooks.INGEST_VALIDATORS)
    hooks.VALIDATORS.clear()
    hooks.INGEST_VALIDATORS.clear()
    yield
    hooks.VALIDATORS[:] = saved
    hooks.INGEST_VALIDATORS[:] = saved_ingest


@pytest.fixture
def validator(no_validators: None) -> Iterator[None]:
    SEEN.clear()
    hooks.register_validator(_count_raw)
    yield


def test_batch_is_queued_for_vee_only_after_commit(session: Any, meters: Any, redis: Any) -> None:
    from service.readings.ingest import ingest_batch
    from tests.readings.conftest import ACTOR

    result = ingest_batch(session(), intervals_batch(day_of("M1", [1.0])), actor=ACTOR)
    assert Queue("vee", connection=redis).count == 0
    session.commit()
    assert Queue("vee", connection=redis).job_ids == [f"readings-vee-batch-{result.batch_id}"]


def test_vee_job_runs_registered_validators_then_marks_batch_validated(
    session: Any, meters: Any, ingest: Any, run_jobs: Any, validator: None
) -> None:
    result = ingest(intervals_batch(day_of("M1", [1.0, 2.0])))
    run_jobs("vee")

    assert SEEN == [(result.batch_id, 2)]
    status = session.execute(text("SELECT status, validated_at FROM ingest_batches")).one()
    assert status.status == "validated" and status.validated_at is not None
    assert session.execute(text("SELECT DISTINCT quality FROM interval_readings")).scalars().all() == [
        "valid"
    ]
    assert jobs.batch_stored(result.batch_id) == "skipped"  # running twice does nothing
    assert SEEN == [(result.batch_id, 2)]


def test_without_validators_the_job_only_marks_the_batch(
    session: Any, meters: Any, ingest: Any, run_jobs: Any, no_validators: None
) -> None:
    ingest(intervals_batch(day_of("M1", [1.0])))
    run_jobs("vee")
    assert session.execute(text("SELECT status FROM ingest_batches")).scalar() == "validated"
    assert session.execute(text("SELECT quality FROM interval_readings")).scalar() == "raw"


def test_lost_vee_job_is_requeued_by_the_sweep(session: Any, meters: Any, ingest: Any, redis: Any) -> None:
    result = ingest(intervals_batch(day_of("M1", [1.0])))
    redis.flushdb()  # Redis lost the job
    session.execute(text("UPDATE ingest_batches SET received_at = now() - interval '1 hour'"))
    session.commit()

    assert jobs.requeue_stored_batches() == 1
    assert Queue("vee", connection=redis).job_ids == [f"readings-vee-batch-{result.batch_id}"]
