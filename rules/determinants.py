"""Billing determinants from validated data, vectorised over many consumers.

Energy comes from register reads per installation segment (old meter: period start or initial
read to final read; new meter: initial read to period end), × multiplier, rollover-aware. The
TOD split, MD and its time come from intervals (kWh per interval, already × multiplier), and
the zone split is scaled to the register energy when both exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rules.checks.common import wrap_delta
from rules.frames import IST_OFFSET_SECONDS, Q_EDITED, Q_ESTIMATED, Q_SUSPECT, Q_VALID, QUALITIES

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
# Qualities billing may use; `suspect` carries only warnings. Raw and failed are never billed.
BILLABLE = (Q_VALID, Q_ESTIMATED, Q_EDITED, Q_SUSPECT)


@dataclass(frozen=True)
class TodZone:
    zone: int
    name: str
    start_minute: int  # local (IST) minute of day, inclusive
    end_minute: int  # exclusive; a zone may wrap past midnight


# MP tariff order TOD slots (normal, morning peak, evening peak, off-peak night).
DEFAULT_TOD_ZONES = (
    TodZone(1, "normal", 0, 1440),
    TodZone(2, "morning_peak", 6 * 60, 9 * 60),
    TodZone(3, "evening_peak", 17 * 60, 22 * 60),
    TodZone(4, "off_peak", 22 * 60, 6 * 60),
)


def zone_table(zones: tuple[TodZone, ...] = DEFAULT_TOD_ZONES) -> npt.NDArray[np.int16]:
    """Zone number per local minute of day; later zones override earlier ones."""
    table = np.zeros(1440, dtype=np.int16)
    minutes = np.arange(1440)
    for z in zones:
        if z.start_minute < z.end_minute:
            inside = (minutes >= z.start_minute) & (minutes < z.end_minute)
        else:
            inside = (minutes >= z.start_minute) | (minutes < z.end_minute)
        table[inside] = z.zone
    return table


def zone_of(interval_end: I64, step_s: I64, table: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """TOD zone of each interval, by the local minute at which it starts."""
    start_local = interval_end - step_s + IST_OFFSET_SECONDS
    return table[(start_local % 86_400) // 60]


@dataclass
class Segments:
    """An installation's share of the period: one row per (consumer, meter) segment."""

    consumer: I64  # index 0..C-1
    start_kwh: F64
    end_kwh: F64
    start_kvah: F64
    end_kvah: F64
    multiplier: F64
    display_digits: I64
    expected_intervals: I64


@dataclass
class Intervals:
    """Intervals of the period sorted by consumer, with kWh, kVAh per interval (× multiplier)."""

    consumer: I64
    ts: I64
    step_s: I64
    kwh: F64
    kvah: F64
    quality: npt.NDArray[np.int8]


@dataclass
class Determinants:
    kwh: F64
    kvah: F64
    kwh_by_zone: F64  # consumers × zones (column z-1 is zone z)
    kvah_by_zone: F64
    md_kw: F64
    md_kw_at: I64  # interval end of the MD, 0 when none
    md_kva: F64
    md_kva_at: I64
    avg_pf: F64
    energy_source: npt.NDArray[np.object_]  # "registers" | "intervals"
    quality_counts: npt.NDArray[np.int64]  # consumers × len(QUALITIES)
    expected_intervals: I64


def compute(
    consumers: int,
    segments: Segments,
    intervals: Intervals,
    zones: tuple[TodZone, ...] = DEFAULT_TOD_ZONES,
) -> Determinants:
    n_zones = max(z.zone for z in zones)
    seg_kwh = wrap_delta(segments.start_kwh, segments.end_kwh, segments.display_digits) * segments.multiplier
    seg_kvah = (
        wrap_delta(segments.start_kvah, segments.end_kvah, segments.display_digits) * segments.multiplier
    )
    reg_kwh = np.bincount(segments.consumer, weights=seg_kwh, minlength=consumers)  # NaN if any is NaN
    reg_kvah = np.bincount(segments.consumer, weights=seg_kvah, minlength=consumers)
    expected = np.bincount(segments.consumer, weights=segments.expected_intervals, minlength=consumers)

    c, q = intervals.consumer, intervals.quality
    n_q = len(QUALITIES)
    counts = np.bincount(c * n_q + q, minlength=consumers * n_q).reshape(consumers, n_q).astype(np.int64)
    billable = np.zeros(n_q, dtype=bool)
    billable[list(BILLABLE)] = True
    use = billable[q]
    # x == x is False only for NaN: cheaper than nan_to_num over tens of millions of rows.
    kwh = np.where(use & (intervals.kwh == intervals.kwh), intervals.kwh, 0.0)
    kvah = np.where(use & (intervals.kvah == intervals.kvah), intervals.kvah, 0.0)
    zone = zone_of(intervals.ts, intervals.step_s, zone_table(zones)).astype(np.int64) - 1
    cell = c * n_zones + zone
    size = consumers * n_zones
    kwh_zone: F64 = (
        np.bincount(cell, weights=kwh, minlength=size).astype(np.float64).reshape(consumers, n_zones)
    )
    kvah_zone: F64 = (
        np.bincount(cell, weights=kvah, minlength=size).astype(np.float64).reshape(consumers, n_zones)
    )
    per_hour = 3600.0 / intervals.step_s
    md_kw, md_kw_at = _max_per_consumer(c, kwh * per_hour, intervals.ts, consumers)
    md_kva, md_kva_at = _max_per_consumer(c, kvah * per_hour, intervals.ts, consumers)
    return _assemble(
        reg_kwh, reg_kvah, kwh_zone, kvah_zone, (md_kw, md_kw_at, md_kva, md_kva_at), counts, expected
    )


def _max_per_consumer(consumer: I64, demand: F64, ts: I64, consumers: int) -> tuple[F64, I64]:
    """Highest demand per consumer and the end of its (first) interval; rows sorted by consumer."""
    md = np.zeros(consumers)
    at = np.zeros(consumers, dtype=np.int64)
    if len(consumer) == 0:
        return md, at
    starts = np.flatnonzero(np.r_[True, consumer[1:] != consumer[:-1]])
    peak = np.maximum.reduceat(demand, starts)
    owners = consumer[starts]
    md[owners] = peak
    is_peak = demand == np.repeat(peak, np.diff(np.append(starts, len(demand))))
    # First peak row per consumer: the minimum row index among peak rows of each group.
    rows = np.flatnonzero(is_peak)
    group_of_row = np.searchsorted(starts, rows, side="right") - 1
    first = np.full(len(starts), -1)
    first[group_of_row[::-1]] = rows[::-1]
    at[owners] = ts[first]
    return md, at


@dataclass
class IntervalGroups:
    """Intervals already summed per (consumer, TOD zone, quality) group, e.g. by SQL.

    `kwh`/`kvah` sum the non-NaN values of the group (× multiplier); `md_*` is the highest
    demand in the group and `md_*_at` the end of its first interval; `first_ts` is the end of
    the group's first interval. Gives the same determinants as `compute` on the rows.
    """

    consumer: I64
    zone: I64  # 1-based TOD zone number
    quality: npt.NDArray[np.int8]
    count: I64
    kwh: F64
    kvah: F64
    md_kw: F64
    md_kw_at: I64
    md_kva: F64
    md_kva_at: I64
    first_ts: I64


def compute_from_groups(
    consumers: int,
    segments: Segments,
    groups: IntervalGroups,
    zones: tuple[TodZone, ...] = DEFAULT_TOD_ZONES,
) -> Determinants:
    """`compute` for pre-aggregated intervals: the database sums, numpy combines."""
    n_zones = max(z.zone for z in zones)
    seg_kwh = wrap_delta(segments.start_kwh, segments.end_kwh, segments.display_digits) * segments.multiplier
    seg_kvah = (
        wrap_delta(segments.start_kvah, segments.end_kvah, segments.display_digits) * segments.multiplier
    )
    reg_kwh = np.bincount(segments.consumer, weights=seg_kwh, minlength=consumers)
    reg_kvah = np.bincount(segments.consumer, weights=seg_kvah, minlength=consumers)
    expected = np.bincount(segments.consumer, weights=segments.expected_intervals, minlength=consumers)

    c, q = groups.consumer, groups.quality.astype(np.int64)
    n_q = len(QUALITIES)
    counts = (
        np.bincount(c * n_q + q, weights=groups.count, minlength=consumers * n_q)
        .reshape(consumers, n_q)
        .astype(np.int64)
    )
    billable = np.zeros(n_q, dtype=bool)
    billable[list(BILLABLE)] = True
    use = billable[q]
    cell = c * n_zones + (groups.zone - 1)
    size = consumers * n_zones
    # astype: bincount of no rows is int64.
    kwh_zone: F64 = (
        np.bincount(cell, weights=np.where(use, groups.kwh, 0.0), minlength=size)
        .astype(np.float64)
        .reshape(consumers, n_zones)
    )
    kvah_zone: F64 = (
        np.bincount(cell, weights=np.where(use, groups.kvah, 0.0), minlength=size)
        .astype(np.float64)
        .reshape(consumers, n_zones)
    )
    # Unbillable intervals count as zero demand (as in `compute`): their group's peak is 0 at its start.
    md_kw, md_kw_at = _max_of_groups(
        c, np.where(use, groups.md_kw, 0.0), np.where(use, groups.md_kw_at, groups.first_ts), consumers
    )
    md_kva, md_kva_at = _max_of_groups(
        c, np.where(use, groups.md_kva, 0.0), np.where(use, groups.md_kva_at, groups.first_ts), consumers
    )
    return _assemble(
        reg_kwh, reg_kvah, kwh_zone, kvah_zone, (md_kw, md_kw_at, md_kva, md_kva_at), counts, expected
    )


def _assemble(
    reg_kwh: npt.NDArray[Any],  # float, NaN where a register end is missing (bincount's stub says int)
    reg_kvah: npt.NDArray[Any],
    kwh_zone: F64,
    kvah_zone: F64,
    md: tuple[F64, I64, F64, I64],
    counts: npt.NDArray[np.int64],
    expected: npt.NDArray[Any],
) -> Determinants:
    """Energy from the registers where both ends were read, else the interval sum; the TOD split
    scaled to that total; PF from the totals. Shared by the row and the grouped computation."""
    consumers = len(reg_kwh)
    int_kwh, int_kvah = kwh_zone.sum(axis=1), kvah_zone.sum(axis=1)
    from_registers = ~np.isnan(reg_kwh)
    total_kwh = np.where(from_registers, reg_kwh, int_kwh)
    total_kvah = np.where(~np.isnan(reg_kvah), reg_kvah, int_kvah)
    kwh_zone = kwh_zone * np.divide(total_kwh, int_kwh, out=np.zeros(consumers), where=int_kwh > 0)[:, None]
    kvah_zone = (
        kvah_zone * np.divide(total_kvah, int_kvah, out=np.zeros(consumers), where=int_kvah > 0)[:, None]
    )
    avg_pf = np.divide(total_kwh, total_kvah, out=np.full(consumers, np.nan), where=total_kvah > 0)
    md_kw, md_kw_at, md_kva, md_kva_at = md
    return Determinants(
        kwh=total_kwh,
        kvah=total_kvah,
        kwh_by_zone=kwh_zone,
        kvah_by_zone=kvah_zone,
        md_kw=md_kw,
        md_kw_at=md_kw_at,
        md_kva=md_kva,
        md_kva_at=md_kva_at,
        avg_pf=np.round(avg_pf, 4),
        energy_source=np.where(from_registers, "registers", "intervals").astype(object),
        quality_counts=counts,
        expected_intervals=expected.astype(np.int64),
    )


def _max_of_groups(consumer: I64, peak: F64, at: I64, consumers: int) -> tuple[F64, I64]:
    """Highest group peak per consumer and the earliest time among the groups reaching it."""
    md = np.zeros(consumers)
    when = np.zeros(consumers, dtype=np.int64)
    if len(consumer) == 0:
        return md, when
    order = np.lexsort((at, -peak, consumer))  # per consumer: highest peak first, then earliest
    c_sorted = consumer[order]
    first = order[np.r_[True, c_sorted[1:] != c_sorted[:-1]]]
    md[consumer[first]] = peak[first]
    when[consumer[first]] = at[first]
    return md, when
