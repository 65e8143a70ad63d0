"""Shape of a load profile: spike, zero run, static (stuck) values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rules.checks.common import day_starts, joined
from rules.frames import Frame, MeterTable
from rules.registry import Hits, Param, rule_type
from rules.segments import expand, lengths, rows_of_runs, top3, true_runs


def _energy(frame: Frame, channel: str) -> Any:
    values = frame.channel(channel)
    return values if values is not None else np.full(len(frame), np.nan)


@rule_type(
    "spike",
    ("interval",),
    "Highest interval of a meter-day against the third highest of the same day.",
    threshold_pct=Param("number", 500.0, 100, None, "highest / third highest, %"),
    min_peak_kwh=Param("number", 0.1, 0, None, "peaks below this are never spikes"),
    channel=Param("choice", "kwh", choices=("kwh", "kvah")),
)
def spike(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    if len(frame) == 0:
        return Hits.none(frame)
    n = len(frame)
    ratio = p["threshold_pct"] / 100.0
    values = _energy(frame, p["channel"])
    clean = np.nan_to_num(values, nan=0.0)
    starts = day_starts(frame)
    size = lengths(starts, n)
    peak = np.maximum.reduceat(clean, starts)
    # The third highest is at least (sum - 2 x peak) / (size - 2): most days are cleared by
    # that bound, and the exact top three is computed only for the days left.
    floor = (np.add.reduceat(clean, starts) - 2 * peak) / np.maximum(size - 2, 1)
    candidate = (size >= 3) & (peak >= p["min_peak_kwh"]) & (peak > ratio * np.maximum(floor, 0.0))
    if not candidate.any():
        return Hits.none(frame)
    rows_in = rows_of_runs(starts[candidate], size[candidate], n)
    part = np.flatnonzero(rows_in)
    sub_starts = np.searchsorted(part, starts[candidate])
    top, top_row, third = top3(values[part], sub_starts)
    is_spike = (top >= p["min_peak_kwh"]) & (top > ratio * np.maximum(third, 0.0))
    flagged_sub = top_row & expand(is_spike, sub_starts, len(part))
    rows = np.zeros(n, dtype=bool)
    rows[part[flagged_sub]] = True
    third_rows = np.full(n, np.nan)
    third_rows[part] = expand(third, sub_starts, len(part))
    return Hits.at_rows(frame, rows, values, third_rows)


def _run_hits(frame: Frame, first: Any, length: Any, min_len: int) -> Hits:
    """One finding per run (first row, length); every row of a run is flagged."""
    keep = length >= min_len
    first, length = first[keep], length[keep]
    return Hits(
        rows=rows_of_runs(first, length, len(frame)),
        meter=frame.meter[first],
        ts=frame.ts[first],
        value=length.astype(np.float64),
        reference=np.full(len(first), float(min_len)),
        extra={"ts_end": frame.ts[first + length - 1]},
    )


@rule_type(
    "zero_run",
    ("interval",),
    "N or more consecutive zero intervals while the meter is energised.",
    min_intervals=Param("int", 8, 2, 10_000, "shortest run of zeros that is flagged"),
    min_voltage_v=Param("number", 0.0, 0, None, "below this voltage the meter is off: not a zero"),
)
def zero_run(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    if len(frame) == 0:
        return Hits.none(frame)
    kwh = frame.channels["kwh"]
    voltage = frame.channel("voltage_v")
    energised = np.ones(len(frame), dtype=bool)
    if voltage is not None and p["min_voltage_v"] > 0:
        energised = np.isnan(voltage) | (voltage >= p["min_voltage_v"])
    first, length = frame.derived(
        ("zero_runs", p["min_voltage_v"]), lambda: true_runs((kwh == 0) & energised, joined(frame, meters))
    )
    return _run_hits(frame, first, length, p["min_intervals"])


@rule_type(
    "static",
    ("interval",),
    "N or more consecutive identical non-zero intervals (a stuck meter or a copied profile).",
    min_intervals=Param("int", 8, 2, 10_000, "shortest run of identical values that is flagged"),
)
def static(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    if len(frame) == 0:
        return Hits.none(frame)
    kwh = frame.channels["kwh"]
    # Rows equal to their (joined) predecessor; a run of k of them is k + 1 identical values.
    same = np.zeros(len(frame), dtype=bool)
    same[1:] = (kwh[1:] == kwh[:-1]) & (kwh[1:] != 0)
    same &= joined(frame, meters)
    first, length = true_runs(same, np.ones(len(frame), dtype=bool))
    return _run_hits(frame, first - 1, length + 1, p["min_intervals"])
