"""Rows a CIM sender addressed only by usage point get their meter from master data, or a reject."""

from __future__ import annotations

from typing import Any

import numpy as np

from integrations.canonical import CanonicalBatch, Events, Intervals, Registers, Reject
from integrations.cim.identity import USAGE_POINT_PREFIX
from service.masterdata.usage_points import meters_for_usage_points

_COLUMNS = {
    "intervals": ("meter", "channel", "interval_end", "value", "interval_minutes"),
    "registers": (
        "meter",
        "kind",
        "channel",
        "tod_zone",
        "read_at",
        "value",
        "occurred_at",
        "reading_status",
    ),
    "events": ("meter", "code", "occurred_at", "restored_at", "snapshot"),
}


def resolve_usage_points(session: Any, batch: CanonicalBatch) -> None:
    """Replace `usage-point:<id>` subjects by meter serials; reject (by usage point) the rest."""
    measures: dict[str, Intervals | Registers | Events] = {
        "intervals": batch.intervals,
        "registers": batch.registers,
        "events": batch.events,
    }
    wanted: set[str] = set()
    for part in measures.values():
        wanted.update(
            m[len(USAGE_POINT_PREFIX) :] for m in set(part.meter.tolist()) if m.startswith(USAGE_POINT_PREFIX)
        )
    if not wanted:
        return
    found = meters_for_usage_points(session, sorted(wanted))
    for name, part in measures.items():
        meters = np.asarray(part.meter, dtype=object)
        keep = np.ones(len(meters), dtype=bool)
        for point in sorted(wanted):
            rows = meters == f"{USAGE_POINT_PREFIX}{point}"
            if not rows.any():
                continue
            if point in found:
                meters[rows] = found[point]
                continue
            keep &= ~rows
            batch.rejects.append(
                Reject(
                    f"{name}[usage point {point}]",
                    "UsagePoint",
                    f"usage point {point!r} has no meter in master data (no consumer with that usage-point id or IVRS "
                    f"number and an installed meter); {int(rows.sum())} values not stored",
                )
            )
        part.meter = meters
        if not keep.all():
            for column in _COLUMNS[name]:
                values = getattr(part, column)
                if column == "snapshot":
                    setattr(part, column, [v for v, k in zip(values, keep, strict=True) if k])
                elif len(values):
                    setattr(part, column, np.asarray(values)[keep])
