"""Stored meter events read back for other areas (outage correlation reads power events here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

_SQL = """
SELECT meter_id, code, occurred_at, restored_at FROM meter_events
WHERE code = ANY(:codes) AND occurred_at >= :start AND occurred_at < :end
  AND coalesce(snapshot->>'cim_status', '') NOT IN ('cancelled', 'deleted')
ORDER BY meter_id, occurred_at, code
"""


_BATCHES = """
SELECT id, meter_ids, first_at, last_at FROM ingest_batches
WHERE id = ANY(:ids) AND first_at IS NOT NULL
"""

# One batch's new or changed rows: the merge stamps them with its batch id.
_OF_BATCH = """
SELECT meter_id, code, occurred_at, restored_at FROM meter_events
WHERE meter_id = ANY(:meters) AND occurred_at >= :first AND occurred_at <= :last
  AND batch_id = :batch AND code = ANY(:codes)
  AND coalesce(snapshot->>'cim_status', '') NOT IN ('cancelled', 'deleted')
ORDER BY meter_id, occurred_at, code
"""


@dataclass(frozen=True)
class StoredEvent:
    meter_id: int
    code: int
    occurred_at: datetime
    restored_at: datetime | None


def events_between(
    session: Session, codes: Sequence[int], start: datetime, end: datetime
) -> list[StoredEvent]:
    """Stored events of these IS 15959 codes that occurred in [start, end); cancelled or deleted
    CIM events are left out. CIM power down/up are stored as 101/102 by the mapping table."""
    rows = session.execute(text(_SQL), {"codes": list(codes), "start": start, "end": end})
    return [StoredEvent(*row) for row in rows]


def events_of_batches(session: Session, batch_ids: Sequence[int], codes: Sequence[int]) -> list[StoredEvent]:
    """The events of these codes that these ingest batches stored or changed (re-delivered
    unchanged rows keep their first batch). Each statement carries the batch's meters and span."""
    out: list[StoredEvent] = []
    batches = session.execute(text(_BATCHES), {"ids": list(batch_ids)}).all()
    for batch_id, meters, first, last in sorted(batches):
        params = {"meters": meters, "first": first, "last": last, "batch": batch_id, "codes": list(codes)}
        out += [StoredEvent(*row) for row in session.execute(text(_OF_BATCH), params)]
    return out
