"""Adding outbox items inside a transaction and running them from RQ jobs.

An item is enqueued on RQ only after its transaction commits (an after-commit effect of the
unit of work); a periodic sweep re-enqueues pending items that are due, so nothing is lost
when Redis is.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.outbox.handlers import OPERATIONS, PermanentError
from service.outbox.models import OutboxItem
from service.ports import Adapters
from service.queues import get_queue
from service.unit_of_work import collect_after_commit

log = logging.getLogger(__name__)
PENDING_KEY = "cmdms.outbox_pending"
RUN_ITEM = "service.outbox.jobs.run_item"  # by path: the jobs module imports this one
MAX_BACKOFF = timedelta(hours=1)
STALE_RUNNING = timedelta(minutes=10)


def add(
    session: Session,
    operation: str,
    payload: dict[str, Any],
    *,
    dedupe_key: str | None = None,
    queue: str = "default",
    max_attempts: int = 5,
    not_before: datetime | None = None,
) -> int | None:
    """Record work to do after commit. Returns the item id, or None if the dedupe key exists."""
    if operation not in OPERATIONS:
        raise KeyError(f"unknown outbox operation {operation!r}")
    values: dict[str, Any] = dict(
        operation=operation, payload=payload, dedupe_key=dedupe_key, queue=queue, max_attempts=max_attempts
    )
    if not_before is not None:
        values["next_attempt_at"] = not_before
    stmt = insert(OutboxItem).values(**values)
    if dedupe_key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["dedupe_key"])
    item_id = session.execute(stmt.returning(OutboxItem.id)).scalar_one_or_none()
    if item_id is not None and not_before is None:
        collect_after_commit(session, PENDING_KEY, (item_id, queue), enqueue_items)
    return item_id


def enqueue_items(items: list[tuple[int, str]], batch: int = 5_000) -> None:
    """Put items on their RQ queues (after commit, and from the sweep), many per Redis round trip."""
    for name in sorted({q for _, q in items}):
        queue = get_queue(name)
        ids = [i for i, q in items if q == name]
        for k in range(0, len(ids), batch):
            queue.enqueue_many([queue.prepare_data(RUN_ITEM, args=(i,)) for i in ids[k : k + batch]])


def due_items(session: Session, limit: int = 1000) -> list[tuple[int, str]]:
    """Pending items whose time has come, and running items whose worker died."""
    now = datetime.now(UTC)
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.status == "running", OutboxItem.started_at < now - STALE_RUNNING)
        .values(status="pending")
    )
    rows = session.execute(
        select(OutboxItem.id, OutboxItem.queue)
        .where(OutboxItem.status == "pending", OutboxItem.next_attempt_at <= now)
        .order_by(OutboxItem.next_attempt_at)
        .limit(limit)
    ).all()
    return [(r.id, r.queue) for r in rows]


def claim(session: Session, item_id: int) -> OutboxItem | None:
    """Lock a due pending item and mark it running (caller commits)."""
    item = session.scalar(
        select(OutboxItem)
        .where(OutboxItem.id == item_id, OutboxItem.status == "pending")
        .with_for_update(skip_locked=True)
    )
    if item is None or item.next_attempt_at > datetime.now(UTC):
        return None
    item.status = "running"
    item.started_at = datetime.now(UTC)
    item.attempts += 1
    return item


def execute(
    session: Session, item: OutboxItem, adapters: Adapters
) -> tuple[bool, dict[str, Any] | None, str | None, bool]:
    """Run the handler. Returns (ok, result, error, permanent)."""
    op = OPERATIONS.get(item.operation)
    if op is None:
        return False, None, f"unknown operation {item.operation!r}", True
    try:
        result = op.handle(session, dict(item.payload), item, adapters)
    except PermanentError as exc:
        return False, None, f"{type(exc).__name__}: {exc}", True
    except Exception as exc:  # noqa: BLE001 - any failure of an outside call is retried
        log.warning("outbox item %s (%s) failed: %s", item.id, item.operation, exc)
        return False, None, f"{type(exc).__name__}: {exc}", False
    return True, result, None, False


def finish(
    session: Session,
    item_id: int,
    ok: bool,
    result: dict[str, Any] | None,
    error: str | None,
    permanent: bool,
) -> datetime | None:
    """Record the outcome. Returns when to try again, or None when finished."""
    item = session.get(OutboxItem, item_id, with_for_update=True)
    assert item is not None
    now = datetime.now(UTC)
    op = OPERATIONS.get(item.operation)
    if ok:
        item.status, item.result, item.done_at, item.last_error = "done", result, now, None
        if op is not None and op.on_done is not None:
            op.on_done(session, item, result)
        return None
    item.last_error = error
    if permanent or item.attempts >= item.max_attempts:
        item.status, item.done_at = "failed", now
        if op is not None and op.on_exhausted is not None:
            op.on_exhausted(session, item)
        return None
    assert op is not None
    base = op.backoff_seconds
    delay = min(timedelta(seconds=base * 4 ** (item.attempts - 1)), MAX_BACKOFF)
    item.status, item.next_attempt_at = "pending", now + delay
    return item.next_attempt_at


def retry(session: Session, item_id: int) -> None:
    """An admin's retry of a failed item: fresh attempts, due now."""
    item = session.get(OutboxItem, item_id, with_for_update=True)
    if item is None or item.status not in ("failed", "cancelled"):
        raise ValueError(f"outbox item {item_id} is not failed")
    item.status, item.attempts, item.done_at = "pending", 0, None
    item.next_attempt_at = datetime.now(UTC)
    collect_after_commit(session, PENDING_KEY, (item.id, item.queue), enqueue_items)
