"""RQ jobs of the outbox. Jobs carry ids; each owns its transactions."""

from __future__ import annotations

from flask import current_app

from service.outbox import outbox
from service.ports import adapters_of
from service.queues import get_queue
from service.unit_of_work import after_commit, unit_of_work


def run_item(item_id: int) -> str:
    with unit_of_work(remove=True) as uow:
        item = outbox.claim(uow.session, item_id)
        if item is None:
            return "skipped"
        queue = item.queue
        uow.commit()
        ok, result, error, permanent = outbox.execute(uow.session, item, adapters_of(current_app))
        uow.rollback()  # handlers record their effects through `result`, not the session
        retry_at = outbox.finish(uow.session, item_id, ok, result, error, permanent)
        if retry_at is not None:
            after_commit(
                uow.session,
                lambda: get_queue(queue).enqueue_at(
                    retry_at, run_item, item_id, job_id=f"outbox-{item_id}-retry-{retry_at.timestamp():.0f}"
                ),
                group="redis",
            )
        uow.commit()
    if retry_at is not None:
        return "retry"
    return "done" if ok else "failed"


def sweep() -> int:
    """Periodic: enqueue due items (covers a Redis restart and items scheduled for later)."""
    with unit_of_work(remove=True) as uow:
        due = outbox.due_items(uow.session)
        uow.commit()
    outbox.enqueue_items(due)
    return len(due)
