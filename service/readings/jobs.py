"""RQ jobs of the measurement store. Each owns its transaction; all are safe to run twice."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.readings import hooks, partitions, quarantine, queueing, replay
from service.readings.models import IngestBatch
from service.unit_of_work import collect_after_commit, unit_of_work

log = logging.getLogger(__name__)
REPLAY_PENDING_KEY = "cmdms.readings_replay_pending"
# A batch still `stored` this long after arrival lost its VEE job (e.g. Redis restarted).
REQUEUE_AFTER = timedelta(minutes=10)


def scan_amr_drop() -> dict[str, int]:
    """RQ job (queue `ingest`, periodic): scan the configured AMR drop folder."""
    from flask import current_app

    from service import app_config
    from service.readings import amr_drop

    outcomes = amr_drop.scan(app_config(current_app).amr_drop_dir)
    return {
        "processed": sum(o.status == "processed" for o in outcomes),
        "failed": sum(o.status == "failed" for o in outcomes),
        "retry": sum(o.status == "retry" for o in outcomes),
    }


def batch_stored(batch_id: int) -> str:
    """Run every registered validator on a stored batch, then mark it validated."""
    with unit_of_work(remove=True) as uow:
        batch = uow.session.scalar(
            select(IngestBatch).where(IngestBatch.id == batch_id).with_for_update(skip_locked=True)
        )
        if batch is None or batch.status != "stored":
            return "skipped"
        for validator in list(hooks.VALIDATORS):
            validator(uow.session, batch_id)
        batch.status, batch.validated_at = "validated", datetime.now(UTC)
        uow.commit()
        return "validated"


def enqueue_batch_stored(batch_id: int) -> None:
    queueing.enqueue_vee([batch_id])


def requeue_stored_batches(now: datetime | None = None) -> int:
    """Periodic: queue VEE again for batches whose job was lost."""
    now = now or datetime.now(UTC)
    with unit_of_work(remove=True) as uow:
        ids = list(
            uow.session.scalars(
                select(IngestBatch.id)
                .where(IngestBatch.status == "stored", IngestBatch.received_at < now - REQUEUE_AFTER)
                .order_by(IngestBatch.id)
                .limit(10_000)
            )
        )
    queueing.enqueue_vee(ids)
    return len(ids)


def replay_quarantine() -> dict[str, int]:
    """Replay quarantined rows whose meter (feeder, DTR) now exists, a chunk per transaction."""
    total = {"groups": 0, "rows": 0, "stored": 0}
    with unit_of_work(remove=True) as uow:
        while True:
            done = replay.replay(uow.session)
            uow.commit()
            for key in total:
                total[key] += done[key]
            if done["groups"] < quarantine.REPLAY_CHUNK:
                break
    if total["groups"]:
        log.info("quarantine replay: %s", total)
    return total


def request_replay(session: Session) -> None:
    """Master-data upserts call this in their transaction: replay runs once they commit."""
    collect_after_commit(session, REPLAY_PENDING_KEY, True, queueing.enqueue_replay)


def enqueue_replay() -> None:
    queueing.enqueue_replay()


def create_partitions_ahead(today: date | None = None) -> list[str]:
    """Daily: the current month and the next two, for every measurement table."""
    with unit_of_work(remove=True) as uow:
        created = partitions.ensure_ahead(uow.session, today)
        uow.commit()
    return created


def reclassify_event_types() -> dict[str, int]:
    """Periodic and on demand: stored events of CIM types the mapping file now names get their code."""
    from flask import current_app

    from service import app_config
    from service.readings import event_types

    with unit_of_work(remove=True) as uow:
        done = event_types.reclassify(uow.session, event_types.event_type_mapping(app_config(current_app)))
        uow.commit()
    return done
