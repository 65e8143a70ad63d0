"""The network as it stood on one local (IST) day, for outage correlation and notices.

Other packages call this instead of reading the master-data link tables: which DT and feeder
each meter (through its consumer) was on, how many reporting meters and consumers each DT and
feeder served, and the org unit of each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

# Meters that report power-fail events themselves (the denominator of a share of meters).
REPORTING_CLASSES = ("smart_1ph", "smart_3ph", "ltct", "ht_amr")

_SQL = """
WITH day AS (
  SELECT (CAST(:day AS date)::timestamp AT TIME ZONE 'Asia/Kolkata') AS s,
         ((CAST(:day AS date) + 1)::timestamp AT TIME ZONE 'Asia/Kolkata') AS e
)
SELECT l.consumer_id, c.org_unit_id, t.code AS dt, coalesce(f1.code, f2.code) AS feeder,
  i.meter_id, m.meter_class
FROM day
JOIN consumer_supply_links l ON l.valid_from <= day.s AND (l.valid_to IS NULL OR l.valid_to > day.s)
JOIN consumers c ON c.id = l.consumer_id
LEFT JOIN dtrs t ON t.id = l.dtr_id
LEFT JOIN dtr_feeder_links df ON df.dtr_id = l.dtr_id AND df.valid_from <= day.s
  AND (df.valid_to IS NULL OR df.valid_to > day.s)
LEFT JOIN feeders f1 ON f1.id = l.feeder_id
LEFT JOIN feeders f2 ON f2.id = df.feeder_id
LEFT JOIN installations i ON i.consumer_id = l.consumer_id AND i.installed_at < day.e
  AND (i.removed_at IS NULL OR i.removed_at > day.s)
LEFT JOIN meters m ON m.id = i.meter_id
"""

_UNITS = """
SELECT 'dt' AS kind, code, id, org_unit_id FROM dtrs
UNION ALL SELECT 'feeder', code, id, org_unit_id FROM feeders
"""


@dataclass
class NetworkDay:
    """One day's supply: meter -> (consumer, DT code, feeder code); sizes per DT and feeder."""

    day: date
    meter_consumer: dict[int, int] = field(default_factory=dict)
    meter_dt: dict[int, str | None] = field(default_factory=dict)
    meter_feeder: dict[int, str | None] = field(default_factory=dict)
    consumer_org: dict[int, int] = field(default_factory=dict)
    dt_meters: dict[str, int] = field(default_factory=dict)
    feeder_meters: dict[str, int] = field(default_factory=dict)
    dt_consumers: dict[str, set[int]] = field(default_factory=dict)
    feeder_consumers: dict[str, set[int]] = field(default_factory=dict)
    dt_feeder: dict[str, str | None] = field(default_factory=dict)
    # ("dt"|"feeder", code) -> (id, org unit id)
    units: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)


def network_on(session: Session, day: date) -> NetworkDay:
    """The network as it stood at the start of local `day` (effective-dated links)."""
    net = NetworkDay(day)
    for consumer, org, dt, feeder, meter, meter_class in session.execute(text(_SQL), {"day": day}):
        net.consumer_org[consumer] = org
        if dt is not None:
            net.dt_consumers.setdefault(dt, set()).add(consumer)
            net.dt_feeder[dt] = feeder
        if feeder is not None:
            net.feeder_consumers.setdefault(feeder, set()).add(consumer)
        if meter is None:
            continue
        net.meter_consumer[meter] = consumer
        net.meter_dt[meter] = dt
        net.meter_feeder[meter] = feeder
        if meter_class in REPORTING_CLASSES:
            if dt is not None:
                net.dt_meters[dt] = net.dt_meters.get(dt, 0) + 1
            if feeder is not None:
                net.feeder_meters[feeder] = net.feeder_meters.get(feeder, 0) + 1
    for kind, code, unit_id, org in session.execute(text(_UNITS)):
        net.units[(kind, code)] = (unit_id, org)
    return net


_DAY = """
WITH day AS (SELECT (CAST(:day AS date)::timestamp AT TIME ZONE 'Asia/Kolkata') AS s)
SELECT l.consumer_id, t.code AS dt, coalesce(f1.code, f2.code) AS feeder
FROM day
JOIN consumer_supply_links l ON l.valid_from <= day.s AND (l.valid_to IS NULL OR l.valid_to > day.s)
LEFT JOIN dtrs t ON t.id = l.dtr_id
LEFT JOIN dtr_feeder_links df ON df.dtr_id = l.dtr_id AND df.valid_from <= day.s
  AND (df.valid_to IS NULL OR df.valid_to > day.s)
LEFT JOIN feeders f1 ON f1.id = l.feeder_id
LEFT JOIN feeders f2 ON f2.id = df.feeder_id
"""

# Built from module constants only (no input reaches the text): S608 does not apply.
_CONSUMERS_ON = {
    "dt": "SELECT DISTINCT consumer_id FROM (" + _DAY + ") s WHERE dt = :code ORDER BY 1",  # noqa: S608
    "feeder": "SELECT DISTINCT consumer_id FROM (" + _DAY + ") s WHERE feeder = :code ORDER BY 1",  # noqa: S608
}
_SUPPLY_OF = "SELECT dt, feeder FROM (" + _DAY + ") s WHERE consumer_id = :consumer LIMIT 1"  # noqa: S608
_POINT = {
    "dt": "SELECT name, org_unit_id FROM dtrs WHERE code = :code",
    "feeder": "SELECT name, org_unit_id FROM feeders WHERE code = :code",
}


def consumers_on(session: Session, level: str, code: str, day: date) -> list[int]:
    """The consumers supplied through this DT (`level` "dt") or feeder at the start of local
    `day`, with the links as they stood then."""
    if level not in ("dt", "feeder"):
        raise ValueError(f"level must be dt or feeder, not {level!r}")
    return list(session.scalars(text(_CONSUMERS_ON[level]), {"day": day, "code": code}))


def supply_of(session: Session, consumer_id: int, day: date) -> tuple[str | None, str | None]:
    """(DT code, feeder code) of one consumer at the start of local `day`; (None, None) if unlinked."""
    row = session.execute(text(_SUPPLY_OF), {"day": day, "consumer": consumer_id}).first()
    return (None, None) if row is None else (row.dt, row.feeder)


@dataclass(frozen=True)
class SupplyPoint:
    level: str
    code: str
    name: str
    org_unit_id: int


def supply_point(session: Session, level: str, code: str) -> SupplyPoint | None:
    """A DT (`level` "dt") or feeder by its code, with its org unit; None when unknown."""
    sql = _POINT.get(level)
    if sql is None:
        return None
    row = session.execute(text(sql), {"code": code}).first()
    return None if row is None else SupplyPoint(level, code, row.name, row.org_unit_id)


def meters_of(session: Session, consumer_id: int, day: date) -> list[int]:
    """The meters installed on a consumer at some time of local `day`."""
    sql = """
    SELECT meter_id FROM installations
    WHERE consumer_id = :consumer
      AND installed_at < ((CAST(:day AS date) + 1)::timestamp AT TIME ZONE 'Asia/Kolkata')
      AND (removed_at IS NULL OR removed_at > (CAST(:day AS date)::timestamp AT TIME ZONE 'Asia/Kolkata'))
    ORDER BY 1
    """
    return list(session.scalars(text(sql), {"consumer": consumer_id, "day": day}))
