"""Quarantine replay through the one ingest path (apart from `quarantine`, which `ingest`
uses to hold rows, so the two do not import each other)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.audit.log import Actor
from service.readings import quarantine
from service.readings.ingest import ingest_batch
from service.readings.models import IngestBatch, QuarantinedReadings
from service.readings.quarantine import REPLAY_ACTOR, REPLAY_CHUNK


def replay(session: Session, actor: Actor = REPLAY_ACTOR, limit: int = REPLAY_CHUNK) -> dict[str, int]:
    """Ingest replayable groups (one batch per group, keeping its source) and delete them.

    Runs in the caller's transaction; rows locked so two replays never take the same group.
    """
    ids = quarantine.replayable_ids(session, limit)
    groups = session.scalars(
        select(QuarantinedReadings)
        .where(QuarantinedReadings.id.in_(ids))
        .order_by(QuarantinedReadings.id)
        .with_for_update(skip_locked=True)
    ).all()
    replayed = rows = stored = 0
    scopes = dict(
        session.execute(
            select(IngestBatch.id, IngestBatch.org_unit_id).where(
                IngestBatch.id.in_({g.batch_id for g in groups})
            )
        )
        .tuples()
        .all()
    )
    for group in groups:
        # The original sender's scope holds on replay: a key limited to one org unit cannot
        # park rows of an unknown meter and have them land when it is created elsewhere.
        result = ingest_batch(
            session, quarantine.to_batch(group), actor=actor, org_unit_id=scopes.get(group.batch_id)
        )
        replayed, rows = replayed + 1, rows + group.row_count
        stored += result.stored + result.unchanged + result.revised
    if groups:
        session.execute(delete(QuarantinedReadings).where(QuarantinedReadings.id.in_([g.id for g in groups])))
    return {"groups": replayed, "rows": rows, "stored": stored}
