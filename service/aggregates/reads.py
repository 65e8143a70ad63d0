"""Reads of the aggregates for other areas (revenue-protection analytics): a window of meter-days
as one row per meter (days as an array, TOD-zone sums of two sub-windows), and network-days summed
per DT or feeder. Set-based: one statement each, grouped in PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlalchemy.orm import Session

ZONES = 4  # rules.determinants.DEFAULT_TOD_ZONES

_ZONE_SUMS = ",\n  ".join(
    f"coalesce(sum(kwh_by_zone[{z}]) FILTER (WHERE day < :split), 0) AS before_{z},"
    f" coalesce(sum(kwh_by_zone[{z}]) FILTER (WHERE day >= :split), 0) AS after_{z}"
    for z in range(1, ZONES + 1)
)
_METER_DAYS = f"""
SELECT meter_id, array_agg(day - CAST(:first AS date) ORDER BY day) AS offsets,
  array_agg(kwh_import ORDER BY day) AS kwh,
  {_ZONE_SUMS}
FROM agg_meter_day
WHERE day >= :first AND day <= :last
GROUP BY meter_id
ORDER BY meter_id
"""

_NETWORK = """
SELECT network_id, sum(input_kwh) AS input_kwh,
  coalesce(sum(sold_metered_kwh + sold_scalar_kwh + direct_ht_kwh) FILTER (WHERE input_kwh IS NOT NULL), 0)
    AS sold_kwh,
  count(input_kwh) AS days_with_input
FROM agg_network_day
WHERE network_kind = :kind AND day >= :first AND day <= :last
GROUP BY network_id
ORDER BY network_id
"""


@dataclass(frozen=True)
class MeterDays:
    """`kwh[i, d]`: meter i's kWh on day first + d (NaN: no meter-day or no billable value);
    `zones_before` / `zones_after`: kWh per TOD zone before / from the split day."""

    first: date
    meter_id: npt.NDArray[np.int64]
    kwh: npt.NDArray[np.float64]
    zones_before: npt.NDArray[np.float64]
    zones_after: npt.NDArray[np.float64]


def meter_days(session: Session, first: date, last: date, split: date) -> MeterDays:
    rows = session.execute(text(_METER_DAYS), {"first": first, "last": last, "split": split}).all()
    days = (last - first).days + 1
    kwh = np.full((len(rows), days), np.nan)
    before = np.zeros((len(rows), ZONES))
    after = np.zeros((len(rows), ZONES))
    for i, row in enumerate(rows):
        kwh[i, row.offsets] = np.array(row.kwh, dtype=np.float64)
        before[i] = row[3 : 3 + 2 * ZONES : 2]
        after[i] = row[4 : 4 + 2 * ZONES : 2]
    ids = np.array([r.meter_id for r in rows], dtype=np.int64)
    return MeterDays(first, ids, kwh, before, after)


@dataclass(frozen=True)
class NetworkEnergy:
    network_id: npt.NDArray[np.int64]
    input_kwh: npt.NDArray[np.float64]  # NaN: no input on any day
    sold_kwh: npt.NDArray[np.float64]  # on the days with input only
    days_with_input: npt.NDArray[np.int64]


def network_energy(session: Session, kind: str, first: date, last: date) -> NetworkEnergy:
    """Input and energy sold per DT (`kind` "dtr") or feeder over [first, last]."""
    rows = session.execute(text(_NETWORK), {"kind": kind, "first": first, "last": last}).all()
    return NetworkEnergy(
        np.array([r.network_id for r in rows], dtype=np.int64),
        np.array([np.nan if r.input_kwh is None else r.input_kwh for r in rows], dtype=np.float64),
        np.array([r.sold_kwh for r in rows], dtype=np.float64),
        np.array([r.days_with_input for r in rows], dtype=np.int64),
    )
