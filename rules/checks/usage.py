"""Consumption checks on interval data: high/low vs history, sum check, demand vs load, export."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rules.checks.common import day_starts, meter_starts, register_deltas, wrap_delta
from rules.frames import Frame, MeterTable
from rules.registry import Hits, Param, rule_type
from rules.segments import lengths, rows_of_runs


@rule_type(
    "high_low",
    ("interval",),
    "A meter-day's consumption against the meter's average daily use.",
    high_pct=Param("number", 50.0, 0, None, "flag above average × (1 + high_pct/100)"),
    low_pct=Param("number", 50.0, 0, 100, "flag below average × (1 - low_pct/100)"),
    min_intervals=Param("int", 1, 1, 10_000, "days with fewer intervals are not judged"),
)
def high_low(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    n = len(frame)
    if n == 0:
        return Hits.none(frame)
    kwh = np.nan_to_num(frame.channels["kwh"])
    starts = day_starts(frame)
    total = np.add.reduceat(kwh, starts)
    average = meters.avg_daily_kwh[frame.meter[starts]]
    judged = (lengths(starts, n) >= p["min_intervals"]) & (average > 0)
    high = total > average * (1 + p["high_pct"] / 100.0)
    low = total < average * (1 - p["low_pct"] / 100.0)
    flagged = judged & (high | low)
    return Hits(
        rows=rows_of_runs(starts[flagged], lengths(starts, n)[flagged], n),
        meter=frame.meter[starts[flagged]],
        ts=frame.ts[starts[flagged]],
        value=total[flagged],
        reference=average[flagged],
    )


@rule_type(
    "sum_check",
    ("interval",),
    "Sum of intervals between two register reads against the register delta × multiplier.",
    tolerance_pct=Param("number", 2.0, 0, 100, "allowed difference, % of the register delta"),
    min_delta_kwh=Param("number", 0.5, 0, None, "smaller register deltas are not judged"),
)
def sum_check(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    n = len(frame)
    if n == 0:
        return Hits.none(frame)
    size = len(meters)
    m = frame.meter
    kwh = np.nan_to_num(frame.channels["kwh"])
    starts = meter_starts(frame)
    owners = m[starts]
    ends = np.append(starts[1:], n) - 1
    covered = (frame.ts[starts] > meters.register_start_ts[owners]) & (
        frame.ts[ends] <= meters.register_end_ts[owners]
    )
    if covered.all():  # the usual case: the registers bracket the whole frame, no per-row test
        inside: Any = np.ones(n, dtype=bool)
        interval_sum = np.zeros(size)
        interval_sum[owners] = np.add.reduceat(kwh, starts)
    else:
        inside = (frame.ts > meters.register_start_ts[m]) & (frame.ts <= meters.register_end_ts[m])
        interval_sum = np.bincount(m, weights=kwh * inside, minlength=size).astype(np.float64)
    delta = wrap_delta(meters.register_start_kwh, meters.register_end_kwh, meters.display_digits)
    register_kwh = delta * meters.multiplier
    present = np.zeros(size, dtype=bool)
    present[m] = True
    judged = present & ~np.isnan(register_kwh) & (register_kwh >= p["min_delta_kwh"])
    off = np.abs(interval_sum - np.nan_to_num(register_kwh)) > register_kwh * p["tolerance_pct"] / 100.0
    flagged = judged & off
    idx = np.flatnonzero(flagged)
    return Hits(
        rows=flagged[m] & inside,
        meter=idx.astype(np.int64),
        ts=meters.register_end_ts[idx],
        value=interval_sum[idx],
        reference=register_kwh[idx],
        extra={"ts_start": meters.register_start_ts[idx]},
    )


@rule_type(
    "demand_over_load",
    ("interval",),
    "Demand of an interval (energy × 60 / interval minutes) above sanctioned load × factor.",
    factor=Param("number", 1.3, 0.1, 100, "multiple of the sanctioned load"),
)
def demand_over_load(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    if len(frame) == 0:
        return Hits.none(frame)
    m = frame.meter
    # Compare energy with a per-meter energy limit: one gather instead of three.
    per_hour = 60.0 / meters.interval_minutes
    energy_limit = (meters.sanctioned_load * p["factor"] / per_hour)[m]
    kvah = frame.channel("kvah")
    energy = frame.channels["kwh"]
    if kvah is not None and meters.load_in_kva.any():
        energy = np.where(meters.load_in_kva[m] & ~np.isnan(kvah), kvah, energy)
    flagged = energy > energy_limit
    hits = Hits.at_rows(frame, flagged, energy, energy_limit)
    hour_factor = per_hour[hits.meter]
    hits.value, hits.reference = hits.value * hour_factor, hits.reference * hour_factor
    return hits


@rule_type(
    "reverse_energy",
    ("interval", "register"),
    "Exported energy on a meter that is not net-metered.",
    min_export_kwh=Param("number", 0.0, 0, None, "export above this is flagged"),
)
def reverse_energy(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    export = frame.channel("kwh_export")
    if export is None or len(frame) == 0:
        return Hits.none(frame)
    if frame.kind == "register":
        export, _, _ = register_deltas(frame, meters, export, meters.prev_register_export_kwh, 0.0)
    flagged = ~meters.net_metered[frame.meter] & (export > p["min_export_kwh"])
    return Hits.at_rows(frame, flagged, export, p["min_export_kwh"])
