"""Vectorised group and run helpers over rows sorted by (meter, ts): no Python loop per row."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from rules.frames import IST_OFFSET_SECONDS

Idx = npt.NDArray[np.intp]


def local_day(ts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Local (IST) day number of an interval ending at ts; 00:00 closes the previous day."""
    return (ts + IST_OFFSET_SECONDS - 1) // 86_400


def group_starts(*keys: npt.NDArray[Any]) -> Idx:
    """First row of each run of equal keys (rows must already be grouped)."""
    n = len(keys[0])
    if n == 0:
        return np.empty(0, dtype=np.intp)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for key in keys:
        change[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(change)


def lengths(starts: Idx, n: int) -> Idx:
    return np.diff(np.append(starts, n))


def expand(per_group: npt.NDArray[Any], starts: Idx, n: int) -> npt.NDArray[Any]:
    """Broadcast one value per group back to its rows."""
    return np.repeat(per_group, lengths(starts, n))


def consecutive(meter: npt.NDArray[np.int64], ts: npt.NDArray[np.int64], step_s: npt.NDArray[Any]) -> Any:
    """True where a row directly follows the previous row of the same meter (no gap)."""
    out = np.zeros(len(ts), dtype=bool)
    if len(ts) > 1:
        out[1:] = (meter[1:] == meter[:-1]) & (ts[1:] - ts[:-1] == step_s[1:])
    return out


def run_starts(meter: npt.NDArray[np.int64], joined: npt.NDArray[np.bool_], *keys: npt.NDArray[Any]) -> Idx:
    """Runs of rows that join their predecessor (`joined`) and share every key."""
    n = len(meter)
    if n == 0:
        return np.empty(0, dtype=np.intp)
    change = ~joined
    change[0] = True
    for key in keys:
        change[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(change)


def first_of_value(values: npt.NDArray[np.float64], target: npt.NDArray[np.float64], starts: Idx) -> Any:
    """Mask of the first row in each group whose value equals the group's target."""
    n = len(values)
    hit = values == expand(target, starts, n)
    count = np.cumsum(hit)
    before = np.zeros(len(starts), dtype=count.dtype)
    before[1:] = count[starts[1:] - 1]
    return hit & (count - expand(before, starts, n) == 1)


def top3(values: npt.NDArray[np.float64], starts: Idx) -> tuple[Any, Any, Any]:
    """(largest, first row of the largest, third largest) per group; NaN counts as -inf.

    Three passes of reduceat with the running maximum removed, so O(n) with no sort.
    """
    work = np.where(np.isnan(values), -np.inf, values)
    first = np.maximum.reduceat(work, starts)
    first_row = first_of_value(work, first, starts)
    work = np.where(first_row, -np.inf, work)
    second = np.maximum.reduceat(work, starts)
    work = np.where(first_of_value(work, second, starts), -np.inf, work)
    third = np.maximum.reduceat(work, starts)
    return first, first_row, third
