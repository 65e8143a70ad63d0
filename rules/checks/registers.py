"""Cumulative registers: negative values, decreasing reads (after rollover), MD vs load."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rules.checks.common import read_normally, register_deltas
from rules.frames import Frame, MeterTable
from rules.registry import Hits, Param, rule_type

CUMULATIVE = ("kwh", "kvah", "kwh_export")


@rule_type(
    "negative_register",
    ("register", "monthly_scalar"),
    "A cumulative register below zero.",
    channels=Param("string_list", ["kwh", "kvah"], choices=CUMULATIVE),
)
def negative_register(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    rows = np.zeros(len(frame), dtype=bool)
    worst = np.zeros(len(frame))
    for name in p["channels"]:
        values = frame.channel(name)
        if values is not None:
            rows |= values < 0
            worst = np.minimum(worst, np.nan_to_num(values))
    return Hits.at_rows(frame, rows, worst, 0.0)


@rule_type(
    "decreasing_register",
    ("register", "monthly_scalar"),
    "A cumulative read below the previous read of the same meter, unless it rolled over at "
    "10**display_digits.",
    channel=Param("choice", "kwh", choices=CUMULATIVE),
    rollover_margin_pct=Param("number", 10.0, 0, 50, "how close to full scale / zero a rollover is"),
)
def decreasing_register(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    values = frame.channel(p["channel"])
    if values is None or len(frame) == 0:
        return Hits.none(frame)
    context = meters.prev_register_export_kwh if p["channel"] == "kwh_export" else meters.prev_register_kwh
    if p["channel"] == "kvah":
        context = np.full(len(meters), np.nan)
    delta, _, prev = register_deltas(frame, meters, values, context, p["rollover_margin_pct"])
    return Hits.at_rows(frame, (delta < 0) & read_normally(frame), values, prev)


@rule_type(
    "md_over_load",
    ("register", "monthly_scalar"),
    "Recorded maximum demand (kW, or kVA for loads sanctioned in kVA) above load × factor.",
    factor=Param("number", 1.3, 0.1, 100, "multiple of the sanctioned load"),
)
def md_over_load(frame: Frame, meters: MeterTable, p: Mapping[str, Any], now_s: int) -> Hits:
    md_kw, md_kva = frame.channel("md_kw"), frame.channel("md_kva")
    if (md_kw is None and md_kva is None) or len(frame) == 0:
        return Hits.none(frame)
    nan = np.full(len(frame), np.nan)
    md_kw = nan if md_kw is None else md_kw
    md_kva = nan if md_kva is None else md_kva
    m = frame.meter
    md = np.where(meters.load_in_kva[m], md_kva, md_kw) * meters.multiplier[m]
    limit = meters.sanctioned_load[m] * p["factor"]
    return Hits.at_rows(frame, md > limit, md, limit)
