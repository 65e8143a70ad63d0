"""Monthly scalar reads: reading status, high/low vs the average of past months, zero use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from integrations.canonical import READING_STATUSES
from rules.checks.common import read_normally, register_deltas
from rules.frames import Frame, MeterTable
from rules.registry import Hits, Param, rule_type

STATUSES = READING_STATUSES  # one list, as billing and the reading app send them


def consumption_kwh(frame: Frame, meters: MeterTable) -> Any:
    """kWh since the previous read (rollover-aware, × multiplier); NaN without a previous read."""
    delta, _, _ = register_deltas(frame, meters, frame.channels["kwh"], meters.prev_register_kwh, 10.0)
    return delta * meters.multiplier[frame.meter]


@rule_type(
    "reading_status",
    ("monthly_scalar",),
    "The reader's status is not one that yields a billable reading.",
    accepted=Param("string_list", ["normal"], choices=STATUSES),
)
def reading_status(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    if frame.reading_status is None:
        return Hits.none(frame)
    status = frame.reading_status
    flagged = ~np.isin(status, np.asarray(p["accepted"], dtype=object))
    hits = Hits.at_rows(frame, flagged, np.nan, np.nan)
    hits.extra["status"] = status[flagged]
    return hits


@rule_type(
    "scalar_high_low",
    ("monthly_scalar",),
    "Consumption since the last read against the average of the last months.",
    high_pct=Param("number", 50.0, 0, None),
    low_pct=Param("number", 50.0, 0, 100),
)
def scalar_high_low(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    if len(frame) == 0:
        return Hits.none(frame)
    used = consumption_kwh(frame, meters)
    average = meters.avg_monthly_kwh[frame.meter]
    judged = (average > 0) & ~np.isnan(used) & read_normally(frame)
    flagged = judged & (
        (used > average * (1 + p["high_pct"] / 100.0)) | (used < average * (1 - p["low_pct"] / 100.0))
    )
    return Hits.at_rows(frame, flagged, used, average)


@rule_type(
    "zero_consumption",
    ("monthly_scalar",),
    "No consumption since the previous read (stopped meter, vacant premises, theft).",
    max_kwh=Param("number", 0.0, 0, None, "consumption at or below this counts as zero"),
)
def zero_consumption(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    if len(frame) == 0:
        return Hits.none(frame)
    used = consumption_kwh(frame, meters)
    flagged = ~np.isnan(used) & (used <= p["max_kwh"]) & (used >= 0) & read_normally(frame)
    return Hits.at_rows(frame, flagged, used, p["max_kwh"])
