"""Estimation of missing or failed intervals and of scalar reads (REFERENCE §6 "Estimation").

Linear interpolation for gaps up to an hour between two known intervals; otherwise the
like-day average (same weekday and time over the last weeks); then every estimate of a meter
is scaled so the day fits the register reads on both sides. Scalar: average daily use × days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rules.checks.common import wrap_delta
from rules.frames import Frame, MeterTable

LINEAR = "linear_interpolation"
LIKE_DAY = "like_day_average"
PRORATED = "register_prorated"
SCALED = "+register_scaled"
AVERAGE_DAILY = "average_daily_use"
DAYS_A_MONTH = 30.44  # a mean Gregorian month: average monthly use -> average daily use
WEEK_S = 7 * 86_400

I64 = npt.NDArray[np.int64]


@dataclass
class Estimates:
    meter: I64
    ts: I64
    value: npt.NDArray[np.float64]
    method: npt.NDArray[np.object_]

    def __len__(self) -> int:
        return len(self.ts)


def _keys(meter: npt.NDArray[np.int64], ts: npt.NDArray[np.int64]) -> I64:
    return (meter.astype(np.int64) << 32) | ts.astype(np.int64)


def _lookup(keys: I64, values: npt.NDArray[np.float64], query: I64) -> npt.NDArray[np.float64]:
    """values at the query keys (keys sorted ascending); NaN where absent."""
    if len(keys) == 0:
        return np.full(len(query), np.nan)
    idx = np.searchsorted(keys, query)
    idx_c = np.minimum(idx, len(keys) - 1)
    found = (idx < len(keys)) & (keys[idx_c] == query)
    return np.where(found, values[idx_c], np.nan)


def slots(gap_meter: I64, first_ts: I64, count: I64, step_s: I64) -> tuple[I64, I64, I64, I64]:
    """Expand gaps into slots: (meter, ts, gap index, position in gap 0..count-1)."""
    total = int(count.sum())
    gap = np.repeat(np.arange(len(count)), count)
    offset = np.repeat(np.cumsum(count) - count, count)
    pos = np.arange(total) - offset
    return gap_meter[gap], first_ts[gap] + pos * step_s[gap], gap, pos


def estimate_intervals(
    gaps: dict[str, I64],
    known: Frame,
    history: Frame,
    meters: MeterTable,
    max_linear_minutes: int = 60,
    like_day_weeks: int = 4,
) -> Estimates:
    """Estimates (kWh per interval) for every slot of every gap.

    `known`: the meters' trusted intervals around the gaps (sorted by meter, ts); `history`:
    trusted intervals of the previous weeks. Register reads in `meters` (register_start/end)
    scale a meter's estimates so that known + estimated energy equals the register delta.
    """
    meter, first, count, step = gaps["meter"], gaps["first_ts"], gaps["count"], gaps["step_s"]
    s_meter, s_ts, s_gap, s_pos = slots(meter, first, count, step)
    known_keys = _keys(known.meter, known.ts)
    known_kwh = known.channels["kwh"]
    left = _lookup(known_keys, known_kwh, _keys(meter, first - step))
    right = _lookup(known_keys, known_kwh, _keys(meter, first + count * step))
    short = (count * step <= max_linear_minutes * 60) & ~np.isnan(left) & ~np.isnan(right)
    fraction = (s_pos + 1) / (count[s_gap] + 1)
    linear = left[s_gap] + (right[s_gap] - left[s_gap]) * fraction
    hist_keys = _keys(history.meter, history.ts)
    hist_kwh = history.channels["kwh"]
    weeks = np.stack(
        [
            _lookup(hist_keys, hist_kwh, _keys(s_meter, s_ts - w * WEEK_S))
            for w in range(1, like_day_weeks + 1)
        ]
    )
    found = (~np.isnan(weeks)).sum(axis=0)
    like_day = np.divide(np.nansum(weeks, axis=0), found, out=np.full(len(s_ts), np.nan), where=found > 0)
    use_linear = short[s_gap]
    value = np.where(use_linear, linear, like_day)
    method = np.where(use_linear, LINEAR, np.where(np.isnan(like_day), "", LIKE_DAY)).astype(object)
    value, method = _fit_registers(s_meter, s_ts, value, method, known, meters)
    keep = ~np.isnan(value)
    return Estimates(s_meter[keep], s_ts[keep], value[keep], method[keep])


def _fit_registers(
    s_meter: I64,
    s_ts: I64,
    value: npt.NDArray[np.float64],
    method: npt.NDArray[np.object_],
    known: Frame,
    meters: MeterTable,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.object_]]:
    size = len(meters)
    register_kwh = wrap_delta(meters.register_start_kwh, meters.register_end_kwh, meters.display_digits)
    register_kwh = register_kwh * meters.multiplier
    km = known.meter
    inside_known = (known.ts > meters.register_start_ts[km]) & (known.ts <= meters.register_end_ts[km])
    known_sum = np.bincount(km, weights=np.nan_to_num(known.channels["kwh"]) * inside_known, minlength=size)
    inside = (s_ts > meters.register_start_ts[s_meter]) & (s_ts <= meters.register_end_ts[s_meter])
    remaining = register_kwh - known_sum
    est_sum = np.bincount(s_meter, weights=np.nan_to_num(value) * inside, minlength=size)
    slots_in = np.bincount(s_meter, weights=inside, minlength=size)
    all_estimated = np.bincount(s_meter, weights=inside & ~np.isnan(value), minlength=size) == slots_in
    usable = ~np.isnan(remaining) & (remaining >= 0)
    can_scale = usable & (est_sum > 0) & all_estimated
    factor = np.divide(remaining, est_sum, out=np.ones(size), where=can_scale)
    scale = inside & can_scale[s_meter]
    value = np.where(scale, value * factor[s_meter], value)
    method = np.where(scale, method + SCALED, method).astype(object)
    # No shape to scale (no neighbours, no history): spread what the registers leave evenly.
    spread = inside & usable[s_meter] & ~can_scale[s_meter] & (slots_in[s_meter] > 0)
    even = np.divide(remaining, slots_in, out=np.zeros(size), where=slots_in > 0)
    value = np.where(spread, even[s_meter], value)
    method = np.where(spread, PRORATED, method).astype(object)
    return value, method


def estimate_scalar(
    prev_read_kwh: npt.NDArray[np.float64],
    prev_ts: I64,
    read_ts: I64,
    avg_daily_kwh: npt.NDArray[np.float64],
    multiplier: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Estimated cumulative read: previous read + average daily use × days (in register units)."""
    days = (read_ts - prev_ts) / 86_400.0
    return prev_read_kwh + avg_daily_kwh * days / multiplier
