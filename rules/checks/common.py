"""Pieces several checks share: interval steps, per-meter groups, register deltas with rollover."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from rules.frames import Frame, MeterTable
from rules.segments import consecutive, group_starts, local_day


def step_seconds(frame: Frame, meters: MeterTable) -> npt.NDArray[np.int64]:
    """Interval length of each row; a zero-stride view when every meter has the same one."""

    def make() -> npt.NDArray[np.int64]:
        minutes = meters.interval_minutes
        if len(minutes) and (minutes == minutes[0]).all():
            return np.broadcast_to(np.int64(minutes[0] * 60), len(frame))
        return minutes[frame.meter] * 60

    return frame.derived(("step", id(meters)), make)  # type: ignore[no-any-return]


def meter_starts(frame: Frame) -> npt.NDArray[np.intp]:
    return frame.derived("meter_starts", lambda: group_starts(frame.meter))  # type: ignore[no-any-return]


def day_starts(frame: Frame) -> npt.NDArray[np.intp]:
    """First row of each (meter, local day) group."""
    return frame.derived("day_starts", lambda: group_starts(frame.meter, local_day(frame.ts)))  # type: ignore[no-any-return]


def joined(frame: Frame, meters: MeterTable) -> npt.NDArray[np.bool_]:
    """Rows that directly follow the previous row of the same meter."""
    return frame.derived(  # type: ignore[no-any-return]
        ("joined", id(meters)), lambda: consecutive(frame.meter, frame.ts, step_seconds(frame, meters))
    )


def per_meter_rows(frame: Frame, meters: MeterTable, meter_flags: npt.NDArray[np.bool_]) -> Any:
    """Rows of the meters flagged in a per-meter mask."""
    return meter_flags[frame.meter]


def previous_values(
    frame: Frame, values: npt.NDArray[np.float64], context_prev: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """The previous cumulative read of the same meter: the row before, or the stored read."""
    prev = np.empty(len(values))
    if len(values) == 0:
        return prev
    prev[1:] = values[:-1]
    first = np.ones(len(values), dtype=bool)
    first[1:] = frame.meter[1:] != frame.meter[:-1]
    prev[first] = context_prev[frame.meter[first]]
    return prev


def register_deltas(
    frame: Frame,
    meters: MeterTable,
    values: npt.NDArray[np.float64],
    context_prev: npt.NDArray[np.float64],
    rollover_margin_pct: float,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    """(delta, rolled_over, previous) of cumulative reads, in register units.

    A decrease is a rollover when the previous read was within the margin below 10**digits and
    the new one within the margin above zero; its delta then counts through the rollover.
    """
    prev = previous_values(frame, values, context_prev)
    delta = values - prev
    full_scale = 10.0 ** meters.display_digits[frame.meter]
    margin = full_scale * rollover_margin_pct / 100.0
    rolled = (delta < 0) & (prev >= full_scale - margin) & (values <= margin) & (values >= 0)
    delta = np.where(rolled, values + full_scale - prev, delta)
    return delta, rolled, prev


def wrap_delta(
    start: npt.NDArray[np.float64], end: npt.NDArray[np.float64], digits: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """end - start, counting once through zero when the register rolled over."""
    delta = end - start
    return np.where(delta < 0, delta + 10.0**digits, delta)


def read_normally(frame: Frame) -> Any:
    """Rows whose value is a real reading (scalar reads with another status carry no value)."""
    if frame.reading_status is None:
        return np.ones(len(frame), dtype=bool)
    return frame.reading_status == "normal"
