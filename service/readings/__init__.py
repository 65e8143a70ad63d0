"""Readings: the measurement store, the one ingest path, quarantine and the read API."""

from __future__ import annotations

from flask import Flask, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

_hooked = False


def _after_commit(session: Session) -> None:
    from service.readings import jobs
    from service.readings.ingest import VEE_PENDING_KEY

    batch_ids = session.info.pop(VEE_PENDING_KEY, [])
    replay = session.info.pop(jobs.REPLAY_PENDING_KEY, False)
    if not has_app_context():
        return  # no Redis to talk to (benchmarks, scripts): the periodic sweep queues them
    for batch_id in batch_ids:
        jobs.enqueue_batch_stored(batch_id)
    if replay:
        jobs.enqueue_replay()


def _after_soft_rollback(session: Session, _previous: object) -> None:
    from service.readings import jobs
    from service.readings.ingest import VEE_PENDING_KEY

    session.info.pop(VEE_PENDING_KEY, None)
    session.info.pop(jobs.REPLAY_PENDING_KEY, None)


def init_app(app: Flask) -> None:
    global _hooked
    from service.extensions import api, csrf
    from service.ops.periodic import register_periodic
    from service.readings import api as readings_api
    from service.readings import jobs, models  # noqa: F401  (registers the tables)

    if not _hooked:
        # Batches reach VEE only once their transaction has committed.
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
        _hooked = True

    csrf.exempt(readings_api.bp)
    api.register_blueprint(readings_api.bp)
    from service.readings import adapters_http  # adapters: HTTP pushes and the AMR drop folder

    adapters_http.init_app(app)
    register_periodic("readings.partitions_ahead", 24 * 3600, jobs.create_partitions_ahead)
    register_periodic("readings.replay_quarantine", 300, jobs.replay_quarantine, queue="ingest")
    register_periodic("readings.requeue_stored_batches", 600, jobs.requeue_stored_batches)
