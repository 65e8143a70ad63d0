"""RQ enqueues of the measurement store, named by job path so logic modules can ask for them
after commit without importing the jobs module (which imports them)."""

from __future__ import annotations

from typing import Any

from service.queues import INGEST, VEE, get_queue

BATCH_STORED = "service.readings.jobs.batch_stored"
REPLAY_QUARANTINE = "service.readings.jobs.replay_quarantine"


def enqueue_vee(batch_ids: list[int]) -> None:
    queue = get_queue(VEE)
    for batch_id in batch_ids:
        # A fixed job id: a re-queued batch replaces its own waiting job instead of adding one.
        queue.enqueue(BATCH_STORED, batch_id, job_id=f"readings-vee-batch-{batch_id}")


def enqueue_replay(_requests: list[Any] | None = None) -> None:
    """One replay however many upserts asked for it in the transaction."""
    get_queue(INGEST).enqueue(REPLAY_QUARANTINE)
