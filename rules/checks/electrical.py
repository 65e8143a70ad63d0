"""Electrical sanity: power factor range, kVAh below kWh, frequency band."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rules.frames import Frame, MeterTable
from rules.registry import Hits, Param, rule_type


@rule_type(
    "pf_range",
    ("interval", "register", "monthly_scalar"),
    "Power factor (interval 'pf' or register 'avg_pf') outside [min_pf, max_pf].",
    min_pf=Param("number", 0.0, -1, 1),
    max_pf=Param("number", 1.0, 0, 1.1),
)
def pf_range(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    pf = frame.channel("pf" if frame.kind == "interval" else "avg_pf")
    if pf is None:
        return Hits.none(frame)
    low = pf < p["min_pf"]
    flagged = low | (pf > p["max_pf"])
    return Hits.at_rows(frame, flagged, pf, np.where(low, p["min_pf"], p["max_pf"]))


@rule_type(
    "kvah_below_kwh",
    ("interval", "register", "monthly_scalar"),
    "Apparent energy below active energy (impossible: PF would exceed 1).",
    tolerance_pct=Param("number", 0.5, 0, 100, "allowed shortfall of kVAh, % of kWh"),
)
def kvah_below_kwh(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    kwh, kvah = frame.channel("kwh"), frame.channel("kvah")
    if kwh is None or kvah is None:
        return Hits.none(frame)
    flagged = kvah < kwh * (1 - p["tolerance_pct"] / 100.0)
    return Hits.at_rows(frame, flagged, kvah, kwh)


@rule_type(
    "frequency_band",
    ("interval",),
    "Average frequency of an interval outside the band.",
    min_hz=Param("number", 47.5, 0, 100),
    max_hz=Param("number", 52.5, 0, 100),
)
def frequency_band(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    hz: Any = frame.channel("frequency_hz")
    if hz is None:
        return Hits.none(frame)
    low = hz < p["min_hz"]
    flagged = low | (hz > p["max_hz"])
    return Hits.at_rows(frame, flagged, hz, np.where(low, p["min_hz"], p["max_hz"]))
