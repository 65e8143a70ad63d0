"""RQ jobs of the outbox. Jobs carry ids; each owns its transactions."""

from __future__ import annotations

from flask import current_app

from service.extensions import db
from service.outbox import outbox
from service.queues import get_queue


def run_item(item_id: int) -> str:
    session = db.session()
    try:
        item = outbox.claim(session, item_id)
        if item is None:
            session.rollback()
            return "skipped"
        session.commit()
        ok, result, error, permanent = outbox.execute(session, item)
        session.rollback()  # handlers record their effects through `result`, not the session
        retry_at = outbox.finish(session, item_id, ok, result, error, permanent)
        queue = item.queue
        session.commit()
    finally:
        db.session.remove()
    if retry_at is not None:
        get_queue(queue, current_app).enqueue_at(
            retry_at, run_item, item_id, job_id=f"outbox-{item_id}-retry-{retry_at.timestamp():.0f}"
        )
        return "retry"
    return "done" if ok else "failed"


def sweep() -> int:
    """Periodic: enqueue due items (covers a Redis restart and items scheduled for later)."""
    try:
        due = outbox.due_items(db.session())
        db.session.commit()
    finally:
        db.session.remove()
    for item_id, queue in due:
        get_queue(queue, current_app).enqueue(run_item, item_id)
    return len(due)
