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
    """(largest, mask of the first row holding it, third largest) per group; NaN counts as -inf.

    Groups are laid into a padded 2-D array (one row per group, e.g. a meter-day of 96) so
    argmax and a partial sort run along rows in C; O(n) with no global sort.
    """
    n = len(values)
    size = lengths(starts, n)
    width = int(size.max()) if len(size) else 0
    if width < 3 or width > 4 * max(1, n // max(1, len(starts))) + 8:
        return _top3_reduceat(values, starts)
    pos = np.arange(n) - np.repeat(starts, size)
    grid = np.full((len(starts), width), -np.inf)
    grid[np.repeat(np.arange(len(starts)), size), pos] = np.where(np.isnan(values), -np.inf, values)
    peak_pos = grid.argmax(axis=1)
    first = grid[np.arange(len(starts)), peak_pos]
    third = np.partition(grid, width - 3, axis=1)[:, width - 3]
    first_row = np.zeros(n, dtype=bool)
    first_row[starts + peak_pos] = True
    return first, first_row, third


def _top3_reduceat(values: npt.NDArray[np.float64], starts: Idx) -> tuple[Any, Any, Any]:
    """top3 for ragged groups: three passes of reduceat with the running maximum removed."""
    work = np.where(np.isnan(values), -np.inf, values)
    first = np.maximum.reduceat(work, starts)
    first_row = first_of_value(work, first, starts)
    work = np.where(first_row, -np.inf, work)
    second = np.maximum.reduceat(work, starts)
    work = np.where(first_of_value(work, second, starts), -np.inf, work)
    third = np.maximum.reduceat(work, starts)
    return first, first_row, third


def true_runs(mask: npt.NDArray[np.bool_], joined: npt.NDArray[np.bool_]) -> tuple[Idx, Idx]:
    """(first row, length) of each maximal run of True rows, each joined to the one before.

    Only boolean passes over the rows; the run arrays are as long as the number of runs.
    """
    n = len(mask)
    if n == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    cont = np.zeros(n, dtype=bool)
    cont[1:] = mask[1:] & mask[:-1] & joined[1:]
    first = np.flatnonzero(mask & ~cont)
    ends_next = np.zeros(n, dtype=bool)
    ends_next[:-1] = cont[1:]
    last = np.flatnonzero(mask & ~ends_next)
    return first, last - first + 1


def rows_of_runs(first: Idx, length: Idx, n: int) -> npt.NDArray[np.bool_]:
    """Mask of the rows covered by the given runs."""
    marks = np.zeros(n + 1, dtype=np.int32)
    np.add.at(marks, first, 1)
    np.add.at(marks, first + length, -1)
    return np.cumsum(marks[:n]) > 0
