"""Transactional outbox drained by RQ workers (DESIGN: nothing accepted is lost)."""

from __future__ import annotations

from flask import Flask, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

_hooked = False


def _after_commit(session: Session) -> None:
    from service.outbox import jobs, outbox
    from service.queues import get_queue

    pending = outbox.take_pending(session)
    if pending and has_app_context():
        for item_id, queue in pending:
            get_queue(queue).enqueue(jobs.run_item, item_id)


def _after_soft_rollback(session: Session, _previous: object) -> None:
    from service.outbox import outbox

    outbox.take_pending(session)


def init_app(app: Flask) -> None:
    global _hooked
    from service.outbox import models  # noqa: F401

    if not _hooked:
        # Every ORM session: items reach RQ only once their transaction has committed.
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
        _hooked = True
