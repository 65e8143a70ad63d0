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
