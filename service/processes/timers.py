"""Timers: each due-timer row is scheduled on RQ (`enqueue_at`) and swept from the table,
so a timer fires even when Redis lost its schedule."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.log import Actor
from service.extensions import db
from service.processes.models import ProcessTimer
from service.processes.runtime import TIMERS_PENDING_KEY, ProcessConflict, ProcessNotFound, advance_instance
from service.queues import get_queue
from workflows.engine import EngineError, TimersDue

log = logging.getLogger(__name__)
TIMER_ACTOR = Actor("system", "timer")


def schedule_after_commit(session: Session) -> None:
    """Session after_commit hook: put the timers of the committed transaction on RQ's schedule."""
    from service.processes.library import remember_stored

    remember_stored(session)
    pending = session.info.pop(TIMERS_PENDING_KEY, [])
    if not pending or not has_app_context():
        return
    queue = get_queue("default", current_app)
    for timer_id, fire_at in pending:
        try:
            queue.enqueue_at(
                fire_at,
                fire_timer_job,
                timer_id,
                job_id=f"process-timer-{timer_id}-{fire_at.timestamp():.0f}",
            )
        except Exception:  # noqa: BLE001 - Redis down: the periodic sweep fires it from the table
            log.warning("could not schedule timer %s on RQ; the sweep will fire it", timer_id)


def forget_after_rollback(session: Session, _previous: object) -> None:
    session.info.pop(TIMERS_PENDING_KEY, None)
    session.info.pop("cmdms.stored_definitions", None)
    session.info.pop("cmdms.stored_definitions_pending", None)


def fire_timer(session: Session, timer_id: int, now: datetime | None = None) -> bool:
    """Fire one due timer (idempotent: a fired or locked timer is left alone)."""
    now = now or datetime.now(UTC)
    timer = session.scalar(
        select(ProcessTimer)
        .where(ProcessTimer.id == timer_id, ProcessTimer.status == "pending")
        .with_for_update(skip_locked=True)
    )
    if timer is None or timer.fire_at > now:
        return False
    timer.status, timer.fired_at = "fired", now
    try:
        advance_instance(session, timer.instance_id, TimersDue(), TIMER_ACTOR)
    except (ProcessConflict, ProcessNotFound, EngineError) as exc:
        log.info("timer %s found nothing to fire: %s", timer_id, exc)
    return True


def due_timer_ids(session: Session, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or datetime.now(UTC)
    return list(
        session.scalars(
            select(ProcessTimer.id)
            .where(ProcessTimer.status == "pending", ProcessTimer.fire_at <= now)
            .order_by(ProcessTimer.fire_at)
            .limit(limit)
        )
    )


def fire_timer_job(timer_id: int) -> str:
    """RQ job (scheduled with enqueue_at)."""
    try:
        fired = fire_timer(db.session(), timer_id)
        db.session.commit()
    finally:
        db.session.remove()
    return "fired" if fired else "skipped"


def sweep_timers() -> int:
    """Periodic job: fire every due timer from the table, one transaction each."""
    fired = 0
    try:
        for timer_id in due_timer_ids(db.session()):
            try:
                fired += fire_timer(db.session(), timer_id)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("timer %s failed to fire", timer_id)
    finally:
        db.session.remove()
    return fired
