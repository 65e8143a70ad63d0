"""RQ jobs of the notifications area. Jobs carry ids (and the sweep's clock); each owns its transactions.

Jobs are coarse (LIBRARY-NOTES: a SimpleWorker runs a few hundred jobs/s): one job sends up to
BATCH notifications, each still claimed and recorded in its own transactions, so a crash
affects at most the one message being sent.
"""

from __future__ import annotations

from datetime import UTC, datetime

from service.notifications import delivery
from service.notifications.engine import current_engine
from service.notifications.queueing import BATCH, enqueue_pending
from service.unit_of_work import unit_of_work

__all__ = ["BATCH", "enqueue_pending", "send_notification", "send_notifications", "sweep"]


def send_notifications(notification_ids: list[int], as_of: str | None = None) -> dict[str, int]:
    """Claim, send, record each. `as_of`: the clock of the sweep that found the rows due."""
    engine = current_engine()
    now = datetime.fromisoformat(as_of) if as_of else datetime.now(UTC)
    counts: dict[str, int] = {}
    with unit_of_work(remove=True) as uow:
        for notification_id in notification_ids:
            work = delivery.claim(uow.session, notification_id, now, engine)
            uow.commit()  # the claim is durable before the provider is called
            status = "skipped"
            if work is not None:
                outcome = delivery.deliver(engine, work)
                status = delivery.finish(uow.session, notification_id, outcome, engine)
                uow.commit()
            counts[status] = counts.get(status, 0) + 1
    return counts


def send_notification(notification_id: int, as_of: str | None = None) -> str:
    return next(iter(send_notifications([notification_id], as_of)))


def sweep(as_of: str | None = None) -> int:
    """Periodic: enqueue due rows (deferred, retrying, or lost with a Redis restart)."""
    now = datetime.fromisoformat(as_of) if as_of else datetime.now(UTC)
    with unit_of_work(remove=True) as uow:
        due = delivery.due(uow.session, now)
        uow.commit()
    enqueue_pending(due, now.isoformat())
    return len(due)
