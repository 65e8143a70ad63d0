"""Shape of a load profile: spike, zero run, static (stuck) values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rules.checks.common import step_seconds
from rules.frames import Frame, MeterTable
from rules.registry import Hits, Param, rule_type
from rules.segments import consecutive, expand, group_starts, lengths, local_day, run_starts, top3


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
    values = _energy(frame, p["channel"])
    starts = group_starts(frame.meter, local_day(frame.ts))
    peak, peak_row, third = top3(values, starts)
    is_spike = (
        (lengths(starts, n) >= 3)
        & (peak >= p["min_peak_kwh"])
        & (peak > p["threshold_pct"] / 100.0 * np.maximum(third, 0.0))
    )
    rows = peak_row & expand(is_spike, starts, n)
    return Hits.at_rows(frame, rows, values, expand(third, starts, n))


def _runs(frame: Frame, meters: MeterTable, *keys: Any) -> tuple[Any, Any]:
    """Starts and lengths of runs of consecutive rows (same meter, no gap) sharing `keys`."""
    joined = consecutive(frame.meter, frame.ts, step_seconds(frame, meters))
    starts = run_starts(frame.meter, joined, *keys)
    return starts, lengths(starts, len(frame))


def _run_hits(frame: Frame, starts: Any, run_len: Any, flagged_runs: Any, min_len: int) -> Hits:
    rows = expand(flagged_runs, starts, len(frame))
    first = starts[flagged_runs]
    ends = first + run_len[flagged_runs] - 1
    return Hits(
        rows=rows,
        meter=frame.meter[first],
        ts=frame.ts[first],
        value=run_len[flagged_runs].astype(np.float64),
        reference=np.full(len(first), float(min_len)),
        extra={"ts_end": frame.ts[ends]},
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
    is_zero = (kwh == 0) & energised
    starts, run_len = _runs(frame, meters, is_zero)
    flagged = is_zero[starts] & (run_len >= p["min_intervals"])
    return _run_hits(frame, starts, run_len, flagged, p["min_intervals"])


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
    starts, run_len = _runs(frame, meters, kwh)
    values = kwh[starts]
    flagged = (values != 0) & ~np.isnan(values) & (run_len >= p["min_intervals"])
    return _run_hits(frame, starts, run_len, flagged, p["min_intervals"])
