"""RQ jobs that compute and publish a month's determinants, one job per chunk of consumers."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.queues import BULK, get_queue
from service.unit_of_work import after_commit, unit_of_work
from service.vee.bulk import compute_for_period, enqueue_pushes, publish_many
from service.vee.determinants import period_bounds

CHUNK_CONSUMERS = 10_000


def chunks_of_period(session: Session, period: str, chunk: int = CHUNK_CONSUMERS) -> list[tuple[int, int]]:
    """Consumer id ranges [first, last] of about `chunk` consumers with a meter in the period."""
    start, end = period_bounds(period)
    ids = (
        session.execute(
            text(
                "SELECT DISTINCT consumer_id FROM installations WHERE consumer_id IS NOT NULL"
                " AND installed_at < :end AND (removed_at IS NULL OR removed_at > :start) ORDER BY 1"
            ),
            {"start": start, "end": end},
        )
        .scalars()
        .all()
    )
    return [(ids[k], ids[min(k + chunk, len(ids)) - 1]) for k in range(0, len(ids), chunk)]


def consumers_in_range(session: Session, first_id: int, last_id: int) -> list[int]:
    return list(
        session.execute(
            text("SELECT id FROM consumers WHERE id BETWEEN :a AND :b ORDER BY id"),
            {"a": first_id, "b": last_id},
        ).scalars()
    )


def run_chunk(
    session: Session, period: str, first_id: int, last_id: int
) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """Compute and publish determinants of consumers first_id..last_id (caller commits, then
    enqueues the returned outbox pushes with `enqueue_pushes`)."""
    payloads = compute_for_period(session, period, consumers_in_range(session, first_id, last_id))
    pushes, unchanged = publish_many(session, period, payloads)
    return {"consumers": len(payloads), "revisions": len(pushes), "unchanged": unchanged}, pushes


def determinants_chunk(period: str, first_id: int, last_id: int) -> dict[str, int]:
    """RQ job (bulk queue): one chunk of a month's determinants, in its own transaction."""
    with unit_of_work(remove=True) as uow:
        summary, pushes = run_chunk(uow.session, period, first_id, last_id)
        # If Redis fails here, the outbox sweep sends them.
        after_commit(uow.session, lambda: enqueue_pushes(pushes), group="redis")
        uow.commit()
    return summary


def enqueue_period(session: Session, period: str, chunk: int = CHUNK_CONSUMERS) -> list[tuple[int, int]]:
    """Queue one `determinants_chunk` job per chunk of the period's consumers on `bulk`."""
    ranges = chunks_of_period(session, period, chunk)
    queue = get_queue(BULK)
    for first_id, last_id in ranges:
        queue.enqueue(determinants_chunk, period, first_id, last_id, job_timeout=1800)
    return ranges
