"""Relay (load-switch) events a HES reports with its command results: stored in the event store
like every other meter event (IS 15959 301 disconnected / 302 connected, through
`service.readings.ingest.ingest_batch`), and the consumer's supply status set from the meter's
latest relay event — by event time, so a late, older event does not undo a newer one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from integrations.canonical import CanonicalBatch
from integrations.hes.replies import RELAY_STATES, Outcome
from integrations.parsing import EventBuilder, iso_to_epoch_one, now_epoch
from service.audit.log import Actor
from service.masterdata.supply import hes_code_of_meters
from service.readings.ingest import IngestResult, ingest_batch

RELAY_CODES = {state: code for code, state in RELAY_STATES.items()}

_SUPPLY_FROM_LATEST_EVENT = text(
    """
    UPDATE consumers c
       SET supply_status = CASE latest.code WHEN 301 THEN 'disconnected' ELSE 'connected' END
      FROM (SELECT DISTINCT ON (e.meter_id) e.meter_id, e.code
              FROM meter_events e
             WHERE e.meter_id = ANY(:meters) AND e.code IN (301, 302)
             ORDER BY e.meter_id, e.occurred_at DESC) AS latest
      JOIN installations i ON i.meter_id = latest.meter_id AND i.removed_at IS NULL
     WHERE c.id = i.consumer_id
       AND c.supply_status IS DISTINCT FROM
           (CASE latest.code WHEN 301 THEN 'disconnected' ELSE 'connected' END)
    """
)


def store_relay_events(
    session: Session, outcomes: Sequence[Outcome], actor: Actor, received_at: datetime
) -> IngestResult | None:
    """Ingest the relay events among `outcomes` (None when there are none) in the caller's
    transaction and update supply status; an event without a time is stamped when received."""
    events = EventBuilder()
    for i, outcome in enumerate(outcomes):
        if outcome.kind != "relay_event" or not outcome.meter or outcome.relay not in RELAY_CODES:
            continue
        occurred = iso_to_epoch_one(outcome.at) if outcome.at else None
        events.add(
            f"[{i}]", outcome.meter, RELAY_CODES[outcome.relay],
            occurred if occurred is not None else int(received_at.timestamp()),
        )  # fmt: skip
    if not events.rows:
        return None
    # Stored under the HES's own code (master data), as its pushed events are; the API key's
    # system name only when none of the meters is known to be behind a HES.
    hes_code = hes_code_of_meters(session, (o.meter for o in outcomes if o.kind == "relay_event" and o.meter))
    batch = CanonicalBatch(source=f"hes:{hes_code or actor.name}"[:64])
    batch.events = events.build(batch.rejects, now_epoch())
    result = ingest_batch(session, batch, actor=actor)
    meters = (
        session.execute(
            text("SELECT unnest(meter_ids) FROM ingest_batches WHERE id = :id"), {"id": result.batch_id}
        )
        .scalars()
        .all()
    )
    if meters:
        session.execute(_SUPPLY_FROM_LATEST_EVENT, {"meters": list(meters)})
    return result
