"""Outage jobs: the stream job after each committed event batch, and the reconciling batch pass."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy.orm import Session

from service.outages import stream
from service.outages.detection import rebuild
from service.outages.restoration import MAX_AGE, notify_restored, restorations_since
from service.queues import DEFAULT, get_queue, redis_conn
from service.unit_of_work import collect_after_commit, unit_of_work

log = logging.getLogger(__name__)
PENDING_KEY = "cmdms.outages_pending"
SEQ_KEY = "cmdms:outages:stream_seq"
LOCK_KEY = "cmdms:outages:stream_lock"
CONCLUDE_QUEUED_KEY = "cmdms:outages:conclude_queued"
WAITING_KEY = "cmdms:outages:stream_waiting"  # stream jobs queued and not started (expires)
# The reconciling pass re-reads this much of the store each time (an outage open longer is
# still closed: `rebuild` widens its span back to the start of one open at the span's start).
RECONCILE_SPAN = timedelta(days=1)


def now_utc() -> datetime:
    """The app's clock port (tests set it), else the wall clock."""
    clock = current_app.extensions["cmdms.ports"].get("clock")
    return clock() if clock is not None else datetime.now(UTC)


def on_events_stored(session: Session, batch_id: int, codes: frozenset[int]) -> None:
    """Readings' hook inside the ingest transaction: queue the stream job once it commits."""
    if codes & {101, 102}:
        collect_after_commit(session, PENDING_KEY, batch_id, enqueue_stream)


def enqueue_stream(batch_ids: list[int]) -> None:
    redis = redis_conn()
    pipe = redis.pipeline()
    pipe.incr(WAITING_KEY)
    pipe.expire(WAITING_KEY, 120)  # a count left by a lost enqueue fades
    pipe.execute()
    get_queue(DEFAULT).enqueue(events_stored, sorted(set(batch_ids)), job_timeout=600)


def events_stored(batch_ids: list[int]) -> dict[str, Any]:
    """RQ job: correlate the power events these batches stored (one job per commit)."""
    redis = redis_conn()
    with redis.lock(LOCK_KEY, timeout=600, blocking_timeout=600):
        waiting = int(cast(Any, redis.decr(WAITING_KEY)))
        seq = int(cast(Any, redis.get(SEQ_KEY)) or 0)
        with unit_of_work(remove=True) as uow:
            result = stream.apply_batches(
                uow.session, batch_ids, seq=seq, now=now_utc(), more_waiting=waiting > 0
            )
            uow.commit()
        stream.STATE.seq = int(cast(Any, redis.incr(SEQ_KEY)))
    if result.deferred and redis.set(CONCLUDE_QUEUED_KEY, 1, nx=True, ex=600):
        # One conclusion behind the queued jobs, queued once however many defer.
        get_queue(DEFAULT).enqueue(conclude_stream, job_timeout=600)
    log.info("outage stream: batches %s -> %s", batch_ids, result)
    return result.__dict__


def conclude_stream() -> dict[str, Any]:
    """RQ job: conclude what deferred stream jobs posted (the batch pass if this worker's
    correlator is not the current one)."""
    redis = redis_conn()
    redis.delete(CONCLUDE_QUEUED_KEY)
    with redis.lock(LOCK_KEY, timeout=600, blocking_timeout=600):
        seq = int(cast(Any, redis.get(SEQ_KEY)) or 0)
        with unit_of_work(remove=True) as uow:
            result = stream.conclude_deferred(uow.session, seq=seq, now=now_utc())
            uow.commit()
        if result is None:
            return reconcile()
        stream.STATE.seq = int(cast(Any, redis.incr(SEQ_KEY)))
    return result.__dict__


def reconcile() -> dict[str, int]:
    """Periodic: rebuild the last day's outages from the stored events (the truth) and announce
    restorations the stream missed (each consumer's notice is deduplicated per outage)."""
    now = now_utc()
    with unit_of_work(remove=True) as uow:
        rebuilt = rebuild(uow.session, now - RECONCILE_SPAN, now + timedelta(minutes=5))
        notices = notify_restored(uow.session, restorations_since(uow.session, now - MAX_AGE, now), now)
        uow.commit()
    return {"outages": rebuilt.outages, "removed": rebuilt.removed, "notices": notices}
