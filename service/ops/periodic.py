"""Periodic tasks run by every worker's ticker thread; a Redis lock lets one worker win each tick.

Registered by each area's init_app: (name, every_seconds, job function to enqueue, queue).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import Redis
from rq import Queue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    every_seconds: int
    job: Callable[..., Any]
    queue: str = "default"


PERIODIC: dict[str, PeriodicTask] = {}


def register_periodic(name: str, every_seconds: int, job: Callable[..., Any], queue: str = "default") -> None:
    PERIODIC[name] = PeriodicTask(name, every_seconds, job, queue)


def tick(redis: Redis) -> list[str]:
    """Enqueue each task whose period has passed; returns the names enqueued."""
    fired = []
    for task in PERIODIC.values():
        if redis.set(f"cmdms:periodic:{task.name}", 1, nx=True, ex=task.every_seconds):
            Queue(task.queue, connection=redis).enqueue(task.job, job_id=None)
            fired.append(task.name)
    return fired


def start_ticker(redis: Redis, stop: threading.Event, interval_seconds: float = 1.0) -> threading.Thread:
    def loop() -> None:
        while not stop.wait(interval_seconds):
            try:
                tick(redis)
            except Exception:
                log.exception("periodic tick failed")

    thread = threading.Thread(target=loop, name="cmdms-periodic", daemon=True)
    thread.start()
    return thread
