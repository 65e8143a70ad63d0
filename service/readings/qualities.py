"""ReadingQualities sent with CIM values, stored beside the values (one set-based statement)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from integrations.cim.meter_readings import Quality
from service.masterdata import Meter

_UPSERT = text(
    "INSERT INTO reading_qualities (meter_id, channel, at, code, quality_at, source, comment, batch_id)"
    " SELECT * FROM unnest(CAST(:meters AS int[]), CAST(:channels AS text[]), CAST(:ats AS timestamptz[]),"
    " CAST(:codes AS text[]), CAST(:quality_ats AS timestamptz[]), CAST(:sources AS text[]),"
    " CAST(:comments AS text[]), CAST(:batches AS bigint[]))"
    " ON CONFLICT (meter_id, channel, at, code) DO UPDATE SET quality_at = EXCLUDED.quality_at,"
    " source = EXCLUDED.source, comment = EXCLUDED.comment, batch_id = EXCLUDED.batch_id"
)


def store_qualities(session: Session, qualities: Sequence[Quality], batch_id: int) -> int:
    """Keep the qualities of known meters' values; returns how many were stored."""
    if not qualities:
        return 0
    serials = sorted({q.meter for q in qualities})
    ids = dict(
        session.execute(select(Meter.serial_number, Meter.id).where(Meter.serial_number.in_(serials)))
        .tuples()
        .all()
    )
    latest: dict[tuple[int, str, str, str], Quality] = {}
    for q in qualities:
        if q.meter in ids:
            latest[(ids[q.meter], q.channel, q.at, q.code)] = q
    if not latest:
        return 0
    keys = list(latest)
    session.execute(
        _UPSERT,
        {
            "meters": [k[0] for k in keys],
            "channels": [k[1] for k in keys],
            "ats": [k[2] for k in keys],
            "codes": [k[3] for k in keys],
            "quality_ats": [latest[k].timestamp for k in keys],
            "sources": [latest[k].source for k in keys],
            "comments": [latest[k].comment for k in keys],
            "batches": [batch_id] * len(keys),
        },
    )
    return len(keys)
