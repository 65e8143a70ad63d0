"""Redis connection and the RQ queues.

Separate queues so bulk work cannot starve urgent messages (LIBRARY-NOTES: a SimpleWorker
does a few hundred jobs/s, so jobs are coarse: one per batch, file or instance step).
"""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis
from rq import Queue

URGENT = "urgent"  # OTP SMS, disconnection notices
DEFAULT = "default"  # workflow steps, outbox items
INGEST = "ingest"  # file drops, quarantine replay
VEE = "vee"  # validation of ingested batches
BULK = "bulk"  # reports, determinants, re-runs
ALL_QUEUES = (URGENT, DEFAULT, INGEST, VEE, BULK)


def init_app(app: Flask, redis_url: str) -> None:
    app.extensions["cmdms.redis"] = Redis.from_url(redis_url)


def redis_conn(app: Flask | None = None) -> Redis:
    return (app or current_app).extensions["cmdms.redis"]


def get_queue(name: str, app: Flask | None = None) -> Queue:
    if name not in ALL_QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=redis_conn(app))
