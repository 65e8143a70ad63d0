"""Checks of the meter and its clock: multiplier mismatch, future timestamps, RTC drift."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from rules.checks.common import meter_starts
from rules.frames import DATA_KINDS, Frame, MeterTable
from rules.registry import Hits, Param, rule_type


def _per_meter(frame: Frame, flagged: npt.NDArray[np.bool_], value: Any, reference: Any) -> Hits:
    """One finding per flagged meter present in the frame (at its first row); all rows flagged."""
    starts = meter_starts(frame)
    first_meter = frame.meter[starts]
    keep = flagged[first_meter]
    idx = first_meter[keep]
    return Hits(
        rows=flagged[frame.meter],
        meter=idx.astype(np.int64),
        ts=frame.ts[starts[keep]],
        value=np.asarray(value)[idx],
        reference=np.asarray(reference)[idx],
    )


@rule_type(
    "multiplier_mismatch",
    DATA_KINDS,
    "The multiplier the meter reports (CT ratio × PT ratio) differs from master data.",
    tolerance_pct=Param("number", 0.1, 0, 100, "allowed relative difference, %"),
)
def multiplier_mismatch(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    if len(frame) == 0:
        return Hits.none(frame)
    reported, master = meters.reported_multiplier, meters.multiplier
    off = np.abs(reported - master) > master * p["tolerance_pct"] / 100.0
    return _per_meter(frame, ~np.isnan(reported) & off, reported, master)


@rule_type(
    "future_timestamp",
    DATA_KINDS,
    "A reading time later than now (plus a tolerance).",
    tolerance_minutes=Param("number", 5.0, 0, 1440, "how far ahead of now is tolerated"),
)
def future_timestamp(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    limit = now_s + p["tolerance_minutes"] * 60
    return Hits.at_rows(frame, frame.ts > limit, frame.ts.astype(np.float64), float(limit))


@rule_type(
    "clock_drift",
    DATA_KINDS,
    "The meter's real-time clock differs from the reading instrument's time by more than allowed.",
    max_drift_minutes=Param("number", 5.0, 0, 1440, "tolerated drift either way"),
)
def clock_drift(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    if len(frame) == 0:
        return Hits.none(frame)
    drift_minutes = meters.clock_drift_seconds / 60.0
    flagged = np.abs(drift_minutes) > p["max_drift_minutes"]
    return _per_meter(frame, flagged, drift_minutes, np.full(len(meters), p["max_drift_minutes"]))
