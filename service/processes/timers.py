"""Timers: each due-timer row is scheduled on RQ (`enqueue_at`) and swept from the table,
so a timer fires even when Redis lost its schedule."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.log import Actor
from service.processes.models import ProcessTimer
from service.processes.runtime import ProcessConflict, ProcessNotFound, advance_instance
from service.unit_of_work import unit_of_work
from workflows.engine import EngineError, TimersDue

log = logging.getLogger(__name__)
TIMER_ACTOR = Actor("system", "timer")


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
    with unit_of_work(remove=True) as uow:
        fired = fire_timer(uow.session, timer_id)
        uow.commit()
    return "fired" if fired else "skipped"


def sweep_timers() -> int:
    """Periodic job: fire every due timer from the table, one transaction each."""
    fired = 0
    with unit_of_work(remove=True) as uow:
        timer_ids = due_timer_ids(uow.session)
        for timer_id in timer_ids:
            try:
                fired += fire_timer(uow.session, timer_id)
                uow.commit()
            except Exception:
                uow.rollback()
                log.exception("timer %s failed to fire", timer_id)
    return fired
