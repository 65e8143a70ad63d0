"""Completeness: missing intervals (gap) and prolonged estimation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rules.checks.common import meter_starts, step_seconds
from rules.frames import Q_ESTIMATED, Frame, MeterTable
from rules.registry import Hits, Param, rule_type


@rule_type(
    "gap",
    ("interval",),
    "Intervals found fewer than expected: one finding per run of missing intervals.",
    max_missing=Param("int", 0, 0, 96, "missing intervals per meter tolerated in the batch"),
)
def gap(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    """Gaps between consecutive rows of a meter, and at the edges of the meter's window.

    Records: ts = first missing interval end, value = intervals missing, extra['step_s'].
    """
    n = len(frame)
    if n == 0:
        return Hits.none(frame)
    m, ts = frame.meter, frame.ts
    step = step_seconds(frame, meters)
    inner = np.flatnonzero((m[1:] == m[:-1]) & (ts[1:] - ts[:-1] > step[1:]))
    g_meter = [m[inner]]
    g_first = [ts[inner] + step[inner]]
    g_count = [(ts[inner + 1] - ts[inner]) // step[inner] - 1]
    starts = meter_starts(frame)
    ends = np.append(starts[1:], n) - 1
    window_start = meters.window_start_ts[m[starts]]
    window_end = meters.window_end_ts[m[ends]]
    first_expected = window_start + step[starts]
    lead = (ts[starts] - first_expected) // step[starts]
    keep = (window_start > 0) & (lead > 0)
    g_meter.append(m[starts][keep])
    g_first.append(first_expected[keep])
    g_count.append(lead[keep])
    trail = (window_end - ts[ends]) // step[ends]
    keep = (window_end > 0) & (trail > 0)
    g_meter.append(m[ends][keep])
    g_first.append(ts[ends][keep] + step[ends][keep])
    g_count.append(trail[keep])
    meter_ = np.concatenate(g_meter).astype(np.int64)
    first = np.concatenate(g_first).astype(np.int64)
    count = np.concatenate(g_count).astype(np.int64)
    total = np.bincount(meter_, weights=count, minlength=len(meters))
    keep = total[meter_] > p["max_missing"]
    order = np.lexsort((first[keep], meter_[keep]))
    meter_, first, count = meter_[keep][order], first[keep][order], count[keep][order]
    return Hits(
        rows=np.zeros(n, dtype=bool),
        meter=meter_,
        ts=first,
        value=count.astype(np.float64),
        reference=np.full(len(meter_), float(p["max_missing"])),
        extra={"step_s": meters.interval_minutes[meter_] * 60},
    )


@rule_type(
    "prolonged_estimation",
    ("interval",),
    "Too large a share of estimated intervals in the look-back window plus this batch.",
    max_estimated_pct=Param("number", 10.0, 0, 100, "share of estimated intervals tolerated, %"),
)
def prolonged_estimation(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    if len(frame) == 0:
        return Hits.none(frame)
    size = len(meters)
    starts = meter_starts(frame)
    owners = frame.meter[starts]
    estimated = np.zeros(size)
    total = np.zeros(size)
    estimated[owners] = np.add.reduceat((frame.quality_in == Q_ESTIMATED).astype(np.int32), starts)
    total[owners] = np.diff(np.append(starts, len(frame)))
    in_batch = total > 0
    estimated += meters.history_estimated
    total += meters.history_total
    pct = np.divide(estimated * 100.0, total, out=np.zeros(size), where=total > 0)
    flagged = in_batch & (pct > p["max_estimated_pct"])
    idx = np.flatnonzero(flagged)
    first_ts = np.zeros(size, dtype=np.int64)
    first_ts[owners] = frame.ts[starts]
    return Hits(
        rows=np.zeros(len(frame), dtype=bool),  # a finding about the meter, not its readings
        meter=idx.astype(np.int64),
        ts=first_ts[idx],
        value=pct[idx],
        reference=np.full(len(idx), float(p["max_estimated_pct"])),
    )
