"""RQ jobs of the notifications area. Jobs carry ids (and the sweep's clock); each owns its transactions."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app

from service.extensions import db
from service.notifications import sending
from service.notifications.engine import current_engine
from service.queues import get_queue


def send_notification(notification_id: int, as_of: str | None = None) -> str:
    """Claim, send, record. `as_of`: the clock of the sweep that found the row due."""
    engine = current_engine()
    now = datetime.fromisoformat(as_of) if as_of else datetime.now(UTC)
    session = db.session()
    try:
        work = sending.claim(session, notification_id, now, engine)
        session.commit()  # the claim is durable before the provider is called
        if work is None:
            return "skipped"
        outcome = sending.deliver(engine, work)
        status = sending.finish(session, notification_id, outcome, engine)
        session.commit()
        return status
    finally:
        db.session.remove()


def sweep(as_of: str | None = None) -> int:
    """Periodic: enqueue due rows (deferred, retrying, or lost with a Redis restart)."""
    now = datetime.fromisoformat(as_of) if as_of else datetime.now(UTC)
    try:
        due = sending.due(db.session(), now)
        db.session.commit()
    finally:
        db.session.remove()
    for notification_id, queue in due:
        get_queue(queue, current_app).enqueue(send_notification, notification_id, now.isoformat())
    return len(due)


def enqueue_pending(pending: list[tuple[int, str]]) -> None:
    for notification_id, queue in pending:
        get_queue(queue, current_app).enqueue(send_notification, notification_id)
