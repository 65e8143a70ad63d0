"""RQ enqueues of notifications, named by job path so `sending` can ask for them after commit
without importing the jobs module."""

from __future__ import annotations

from itertools import groupby

from service.queues import get_queue

SEND = "service.notifications.jobs.send_notifications"
BATCH = 50  # a SimpleWorker runs a few hundred jobs/s: one job sends up to this many


def enqueue_pending(pending: list[tuple[int, str]], as_of: str | None = None) -> None:
    """One job per chunk of rows of one queue; `as_of` is the clock of the sweep that found them."""
    for queue, rows in groupby(sorted(pending, key=lambda p: p[1]), key=lambda p: p[1]):
        ids = [notification_id for notification_id, _ in rows]
        for start in range(0, len(ids), BATCH):
            get_queue(queue).enqueue(SEND, ids[start : start + BATCH], as_of)
