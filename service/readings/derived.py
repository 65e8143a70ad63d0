"""Interval deltas from a cumulative register sampled every interval (CIM accumulation 9 / 3).

Such load profiles are stored as they were read (register kind `instant`); the delta of an
interval is the difference of the samples at its two ends, when both exist one period apart.
A decrease (a meter rollover or replacement) gives no delta: VEE's rollover rule owns that.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

VALID_MINUTES = (1, 5, 10, 15, 30, 60)
_SAMPLES = text(
    "SELECT read_at, value FROM register_reads WHERE meter_id = :meter AND kind = 'instant'"
    " AND channel = :channel AND tod_zone = 0 AND read_at >= :start AND read_at <= :end"
    " AND value IS NOT NULL ORDER BY read_at"
)


def interval_deltas(
    session: Session, meter_id: int, channel: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Deltas ending in (start, end], from the samples at or after `start` up to `end`."""
    samples = session.execute(
        _SAMPLES, {"meter": meter_id, "channel": channel, "start": start, "end": end}
    ).all()
    pairs = list(zip(samples, samples[1:], strict=False))  # consecutive samples
    gaps = [(t1 - t0).total_seconds() / 60 for (t0, _), (t1, _) in pairs]
    usual = [g for g in gaps if g in VALID_MINUTES]
    if not usual:
        return []
    # The profile's period is its most common gap; a longer one hides missing samples and
    # would make up a delta for intervals nobody read.
    period = Counter(usual).most_common(1)[0][0]
    return [
        {"interval_end": t1, "interval_minutes": int(period), "value": round(v1 - v0, 9)}
        for ((_, v0), (t1, v1)), gap in zip(pairs, gaps, strict=True)
        if gap == period and v1 >= v0
    ]
