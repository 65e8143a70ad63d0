"""Timers on RQ's schedule, named by job path so the effects module can ask for it after commit
without importing the timers module (which imports it through the runtime)."""

from __future__ import annotations

from datetime import datetime

from service.queues import DEFAULT, get_queue

FIRE_TIMER = "service.processes.timers.fire_timer_job"


def schedule_timers(pending: list[tuple[int, datetime]]) -> None:
    """`enqueue_at` each timer; the periodic sweep fires any Redis lost or never got."""
    queue = get_queue(DEFAULT)
    for timer_id, fire_at in pending:
        queue.enqueue_at(
            fire_at, FIRE_TIMER, timer_id, job_id=f"process-timer-{timer_id}-{fire_at.timestamp():.0f}"
        )
