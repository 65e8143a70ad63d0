"""RQ jobs of the measurement store. Each owns its transaction; all are safe to run twice."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.extensions import db
from service.queues import INGEST, VEE, get_queue
from service.readings import hooks, partitions, quarantine
from service.readings.models import IngestBatch

log = logging.getLogger(__name__)
REPLAY_PENDING_KEY = "cmdms.readings_replay_pending"
# A batch still `stored` this long after arrival lost its VEE job (e.g. Redis restarted).
REQUEUE_AFTER = timedelta(minutes=10)


def batch_stored(batch_id: int) -> str:
    """Run every registered validator on a stored batch, then mark it validated."""
    session = db.session()
    try:
        batch = session.scalar(
            select(IngestBatch).where(IngestBatch.id == batch_id).with_for_update(skip_locked=True)
        )
        if batch is None or batch.status != "stored":
            session.rollback()
            return "skipped"
        for validator in list(hooks.VALIDATORS):
            validator(session, batch_id)
        batch.status, batch.validated_at = "validated", datetime.now(UTC)
        session.commit()
        return "validated"
    except Exception:
        session.rollback()
        raise
    finally:
        db.session.remove()


def enqueue_batch_stored(batch_id: int) -> None:
    # A fixed job id: a re-queued batch replaces its own waiting job instead of adding one.
    get_queue(VEE).enqueue(batch_stored, batch_id, job_id=f"readings-vee-batch-{batch_id}")


def requeue_stored_batches() -> int:
    """Periodic: queue VEE again for batches whose job was lost."""
    session = db.session()
    try:
        ids = list(
            session.scalars(
                select(IngestBatch.id)
                .where(
                    IngestBatch.status == "stored",
                    IngestBatch.received_at < datetime.now(UTC) - REQUEUE_AFTER,
                )
                .order_by(IngestBatch.id)
                .limit(10_000)
            )
        )
        session.rollback()
    finally:
        db.session.remove()
    for batch_id in ids:
        enqueue_batch_stored(batch_id)
    return len(ids)


def replay_quarantine() -> dict[str, int]:
    """Replay quarantined rows whose meter (feeder, DTR) now exists, a chunk per transaction."""
    total = {"groups": 0, "rows": 0, "stored": 0}
    try:
        while True:
            session = db.session()
            done = quarantine.replay(session)
            session.commit()
            for key in total:
                total[key] += done[key]
            if done["groups"] < quarantine.REPLAY_CHUNK:
                break
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.remove()
    if total["groups"]:
        log.info("quarantine replay: %s", total)
    return total


def request_replay(session: Session) -> None:
    """Master-data upserts call this in their transaction: replay runs once they commit."""
    session.info[REPLAY_PENDING_KEY] = True


def enqueue_replay() -> None:
    get_queue(INGEST).enqueue(replay_quarantine)


def create_partitions_ahead() -> list[str]:
    """Daily: the current month and the next two, for every measurement table."""
    session = db.session()
    try:
        created = partitions.ensure_ahead(session)
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        db.session.remove()
    return created


def reclassify_event_types() -> dict[str, int]:
    """Periodic and on demand: stored events of CIM types the mapping file now names get their code."""
    from flask import current_app

    from service import app_config
    from service.readings import event_types

    session = db.session()
    try:
        done = event_types.reclassify(session, event_types.event_type_mapping(app_config(current_app)))
        session.commit()
        return done
    except Exception:
        session.rollback()
        raise
    finally:
        db.session.remove()
