"""A consumer's kWh per day, week or month over every meter installed on it in the period.

Keyed by consumer, not meter: each meter counts only inside its installation window, so a
replacement inside a period is invisible. Interval meters from the daily aggregates
(`agg_meter_day`), scalar meters from their monthly reads (`agg_scalar_read`, each read's
consumption on the local day of the read, the new meter's first read from its installation's
initial reading, the old meter's final reading on its removal day — as the determinants do).
Two set-based statements per call, whatever the number of buckets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.aggregates import local_span
from service.consumption.periods import DayRange, buckets
from service.consumption.tariffs import Tariff, month_fraction, tariff_for

IST = "Asia/Kolkata"
ZONES = 4
KWH = Decimal("0.001")

# A meter-day counts while the local day overlaps the meter's installation on this consumer.
_INTERVAL_SQL = f"""
WITH b AS (
  SELECT b.n, b.first_day, b.last_day
  FROM unnest(CAST(:firsts AS date[]), CAST(:lasts AS date[])) WITH ORDINALITY AS b(first_day, last_day, n)
), inst AS (
  SELECT i.meter_id, i.installed_at, i.removed_at FROM installations i
  WHERE i.consumer_id = :consumer_id AND i.installed_at < :span_end
    AND (i.removed_at IS NULL OR i.removed_at > :span_start)
), days AS (
  SELECT d.day, d.kwh_import, d.kwh_export, d.kwh_by_zone FROM agg_meter_day d
  WHERE d.meter_id IN (SELECT meter_id FROM inst) AND d.day BETWEEN :first_day AND :last_day
    AND EXISTS (
      SELECT 1 FROM inst WHERE inst.meter_id = d.meter_id
        AND inst.installed_at < ((d.day + 1)::timestamp AT TIME ZONE '{IST}')
        AND (inst.removed_at IS NULL OR inst.removed_at > (d.day::timestamp AT TIME ZONE '{IST}')))
)
SELECT b.n, sum(days.kwh_import), sum(days.kwh_export),
  {", ".join(f"sum(days.kwh_by_zone[{z}])" for z in range(1, ZONES + 1))},
  count(DISTINCT days.day)
FROM b LEFT JOIN days ON days.day BETWEEN b.first_day AND b.last_day
GROUP BY b.n ORDER BY b.n
"""  # noqa: S608 - composed only of constant fragments

# Scalar consumption in the span, each amount on the local day it was read (or removed):
# reads inside the installation window with the consumption the aggregate gave them (the one
# rule, `service/aggregates/meters.py`: the first from the installation's initial reading),
# plus (final - last read) x MF of an installation removed in the span without a stored final read.
_SCALAR_SQL = f"""
WITH inst AS (
  SELECT i.id, i.meter_id, i.installed_at, i.removed_at, i.initial_kwh, i.final_kwh,
    m.multiplying_factor AS mf
  FROM installations i JOIN meters m ON m.id = i.meter_id
  WHERE i.consumer_id = :consumer_id AND m.meter_class = 'scalar' AND i.installed_at < :span_end
    AND (i.removed_at IS NULL OR i.removed_at > :span_start)
), amounts AS (
  SELECT (s.read_at AT TIME ZONE '{IST}')::date AS day, s.consumption_kwh AS kwh
  FROM agg_scalar_read s JOIN inst ON inst.meter_id = s.meter_id
    AND s.read_at > inst.installed_at AND (inst.removed_at IS NULL OR s.read_at <= inst.removed_at)
  WHERE s.meter_id IN (SELECT meter_id FROM inst) AND s.read_at > :span_start AND s.read_at <= :span_end
  UNION ALL
  SELECT (inst.removed_at AT TIME ZONE '{IST}')::date,
    greatest(inst.final_kwh - coalesce(last.reading_kwh, inst.initial_kwh), 0) * inst.mf
  FROM inst LEFT JOIN LATERAL (
    SELECT s.reading_kwh FROM agg_scalar_read s
    WHERE s.meter_id = inst.meter_id AND s.read_at > inst.installed_at AND s.read_at < inst.removed_at
      AND s.reading_kwh IS NOT NULL AND s.quality <> 'failed'
    ORDER BY s.read_at DESC LIMIT 1
  ) last ON true
  WHERE inst.removed_at > :span_start AND inst.removed_at <= :span_end AND inst.final_kwh IS NOT NULL
    AND NOT EXISTS (
      SELECT 1 FROM agg_scalar_read s WHERE s.meter_id = inst.meter_id AND s.read_at = inst.removed_at)
)
SELECT b.n, sum(a.kwh), count(a.kwh)
FROM unnest(CAST(:firsts AS date[]), CAST(:lasts AS date[])) WITH ORDINALITY AS b(first_day, last_day, n)
LEFT JOIN amounts a ON a.day BETWEEN b.first_day AND b.last_day
GROUP BY b.n ORDER BY b.n
"""  # noqa: S608 - composed only of constant fragments


@dataclass(frozen=True)
class Bucket:
    first_day: date
    last_day: date
    kwh: Decimal | None  # None: no data in the bucket (never zero for missing)
    kwh_export: Decimal | None
    kwh_by_zone: tuple[Decimal, ...]  # interval meters only; zone z at index z-1
    cost_inr: Decimal | None  # None without a tariff or without data
    days_with_data: int  # interval meter-days found
    scalar_reads: int  # scalar amounts (reads, removals) found


@dataclass(frozen=True)
class Series:
    consumer_id: int
    period: str
    resolution: str  # day | week | month | year
    tariff_category: str
    buckets: list[Bucket]

    @property
    def total_kwh(self) -> Decimal | None:
        values = [b.kwh for b in self.buckets if b.kwh is not None]
        return sum(values, Decimal(0)) if values else None

    @property
    def total_cost_inr(self) -> Decimal | None:
        values = [b.cost_inr for b in self.buckets if b.cost_inr is not None]
        return sum(values, Decimal(0)) if values else None


def _kwh(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(KWH)


def consumption(
    session: Session,
    consumer_id: int,
    period: str,
    today: date,
    *,
    tariff_category: str | None = None,
    tariff: Tariff | None = None,
) -> Series:
    """The consumer's consumption in `period` (see `periods.PERIODS`) as of local day `today`.

    `tariff_category` saves a look-up when the caller has the consumer; `tariff` replaces the
    tariff of that category (None: `tariffs.tariff_for`, the version in force on `today`)."""
    resolution, ranges = buckets(period, today)
    if tariff_category is None:
        tariff_category = session.execute(
            text("SELECT tariff_category FROM consumers WHERE id = :id"), {"id": consumer_id}
        ).scalar_one()
    tariff = tariff or tariff_for(tariff_category, on=today)
    span_start, span_end = local_span(ranges[0].first_day, ranges[-1].last_day)
    params = {
        "consumer_id": consumer_id,
        "firsts": [r.first_day for r in ranges],
        "lasts": [r.last_day for r in ranges],
        "first_day": ranges[0].first_day,
        "last_day": ranges[-1].last_day,
        "span_start": span_start,
        "span_end": span_end,
    }
    interval_rows = session.execute(text(_INTERVAL_SQL), params).all()
    scalar_rows = session.execute(text(_SCALAR_SQL), params).all()
    out = [
        _bucket(r, i_row, s_row, tariff)
        for r, i_row, s_row in zip(ranges, interval_rows, scalar_rows, strict=True)
    ]
    return Series(consumer_id, period, resolution, tariff_category, out)


def _bucket(r: DayRange, i_row: Any, s_row: Any, tariff: Tariff | None) -> Bucket:
    interval_kwh, export, zones, days = _kwh(i_row[1]), _kwh(i_row[2]), i_row[3 : 3 + ZONES], i_row[3 + ZONES]
    scalar_kwh, reads = _kwh(s_row[1]), s_row[2]
    parts = [v for v in (interval_kwh, scalar_kwh) if v is not None]
    kwh = sum(parts, Decimal(0)) if parts else None
    by_zone = tuple(_kwh(z) or Decimal(0) for z in zones) if days else ()
    cost = None
    if tariff is not None and kwh is not None:
        # Scalar kWh has no TOD split: it is charged at the plain energy rate.
        cost = tariff.energy_cost_inr(kwh, by_zone, month_fraction(r.first_day, r.last_day))
    return Bucket(r.first_day, r.last_day, kwh, export if days else None, by_zone, cost, days, reads)
