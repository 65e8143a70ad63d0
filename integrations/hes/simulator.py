"""A head-end system's pushes, for tests, benchmarks and the demo: valid and deliberately broken."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from integrations.simulation import SimDay, local_iso


def block_load(sim: SimDay) -> dict[str, Any]:
    names = list(sim.channels)
    columns = [sim.channels[name].tolist() for name in names]
    ends = local_iso(sim.local_ends)
    present = sim.present.tolist()
    values = [
        {"end": end, **dict(zip(names, row, strict=True))}
        for end, ok, *row in zip(ends, present, *columns, strict=True)
        if ok
    ]
    return {
        "meter": sim.meter.serial,
        "profile": "block_load",
        "interval_minutes": sim.interval_minutes,
        "values": values,
    }


def daily(sim: SimDay) -> dict[str, Any]:
    (at,) = local_iso(np.array([sim.local_ends[0] - sim.interval_minutes * 60]))
    return {
        "meter": sim.meter.serial,
        "profile": "daily",
        "values": [{"at": at, "kwh": sim.register_start_kwh, "kvah": sim.register_start_kvah}],
    }


def billing(sim: SimDay) -> dict[str, Any]:
    """A billing-profile entry at the day's start: totals, two TOD zones, MD with its time."""
    (at,) = local_iso(np.array([sim.local_ends[0] - sim.interval_minutes * 60]))
    (md_at,) = local_iso(np.array([sim.md_local_at - 86_400]))
    peak_share = 0.3
    return {
        "meter": sim.meter.serial,
        "profile": "billing",
        "values": [
            {
                "at": at,
                "kwh": sim.register_start_kwh,
                "kvah": sim.register_start_kvah,
                "md_kw": sim.md_kw,
                "md_kw_at": md_at,
                "avg_pf": 0.92,
                "tod": [
                    {"zone": 1, "kwh": round(sim.register_start_kwh * (1 - peak_share), 3)},
                    {"zone": 2, "kwh": round(sim.register_start_kwh * peak_share, 3)},
                ],
            }
        ],
    }


def instantaneous(sim: SimDay) -> dict[str, Any]:
    (at,) = local_iso(sim.local_ends[-1:])
    return {
        "meter": sim.meter.serial,
        "profile": "instantaneous",
        "values": [{"at": at, "kwh": sim.register_end_kwh, "kvah": sim.register_end_kvah}],
    }


PROFILE_WRITERS = {
    "block_load": block_load,
    "daily": daily,
    "billing": billing,
    "instantaneous": instantaneous,
}


def readings_message(
    days: Sequence[SimDay],
    *,
    hes: str = "HES-A",
    message_id: str | None = None,
    profiles: Sequence[str] = ("block_load", "daily"),
) -> dict[str, Any]:
    readings = [PROFILE_WRITERS[profile](sim) for sim in days for profile in profiles]
    return {"message_id": message_id, "hes": hes, "readings": readings}


def events_message(
    days: Sequence[SimDay], *, hes: str = "HES-A", message_id: str | None = None
) -> dict[str, Any]:
    events = []
    for sim in days:
        for code, local in sim.events:
            (occurred,) = local_iso(np.array([local]))
            events.append(
                {
                    "meter": sim.meter.serial,
                    "code": code,
                    "occurred_at": occurred,
                    "restored_at": None,
                    "snapshot": {"voltage_r": 231.0, "current_r": 1.4, "kwh": sim.register_start_kwh},
                }
            )
    return {"message_id": message_id, "hes": hes, "events": events}


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def broken_readings(sim: SimDay) -> dict[str, Any]:
    """A readings push with one of each row-level fault the parser must report."""
    good = block_load(sim)
    values = good["values"]
    values[1] = {**values[1], "kwh": "lots"}  # non-numeric
    values[2] = {**values[2], "frequency_hz": 50.0}  # unknown parameter
    values[3] = {**values[3], "end": values[3]["end"].replace(":00+", ":07+")}  # off the grid
    values[4] = {**values[4], "end": "27/11/2026 00:15"}  # unparseable date
    values.append(dict(values[0]))  # duplicate interval
    values.append({**values[0], "end": "2099-01-01T00:15:00+05:30"})  # future
    return {"message_id": "broken-1", "hes": "HES-A", "readings": [good]}
