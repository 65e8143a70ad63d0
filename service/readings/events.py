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
