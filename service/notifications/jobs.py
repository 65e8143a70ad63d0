"""RQ jobs of the notifications area. Jobs carry ids (and the sweep's clock); each owns its transactions.

Jobs are coarse (LIBRARY-NOTES: a SimpleWorker runs a few hundred jobs/s): one job sends up to
BATCH notifications, each still claimed and recorded in its own transactions, so a crash
affects at most the one message being sent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import groupby

from flask import current_app

from service.extensions import db
from service.notifications import delivery
from service.notifications.engine import current_engine
from service.queues import get_queue

BATCH = 50


def send_notifications(notification_ids: list[int], as_of: str | None = None) -> dict[str, int]:
    """Claim, send, record each. `as_of`: the clock of the sweep that found the rows due."""
    engine = current_engine()
    now = datetime.fromisoformat(as_of) if as_of else datetime.now(UTC)
    counts: dict[str, int] = {}
    session = db.session()
    try:
        for notification_id in notification_ids:
            work = delivery.claim(session, notification_id, now, engine)
            session.commit()  # the claim is durable before the provider is called
            status = "skipped"
            if work is not None:
                outcome = delivery.deliver(engine, work)
                status = delivery.finish(session, notification_id, outcome, engine)
                session.commit()
            counts[status] = counts.get(status, 0) + 1
    finally:
        db.session.remove()
    return counts


def send_notification(notification_id: int, as_of: str | None = None) -> str:
    return next(iter(send_notifications([notification_id], as_of)))


def sweep(as_of: str | None = None) -> int:
    """Periodic: enqueue due rows (deferred, retrying, or lost with a Redis restart)."""
    now = datetime.fromisoformat(as_of) if as_of else datetime.now(UTC)
    try:
        due = delivery.due(db.session(), now)
        db.session.commit()
    finally:
        db.session.remove()
    enqueue_pending(due, now.isoformat())
    return len(due)


def enqueue_pending(pending: list[tuple[int, str]], as_of: str | None = None) -> None:
    for queue, rows in groupby(sorted(pending, key=lambda p: p[1]), key=lambda p: p[1]):
        ids = [notification_id for notification_id, _ in rows]
        for start in range(0, len(ids), BATCH):
            get_queue(queue, current_app).enqueue(send_notifications, ids[start : start + BATCH], as_of)
