"""Estimation methods against hand-computed values."""

from __future__ import annotations

import numpy as np

from rules.estimation import LIKE_DAY, LINEAR, PRORATED, estimate_intervals, estimate_scalar
from rules.frames import Frame, MeterTable
from tests.rules.helpers import DAY0, STEP

WEEK = 7 * 86_400


def frame(meter: list[int], interval: list[int], kwh: list[float], offset: int = 0) -> Frame:
    return Frame(
        "interval",
        np.asarray(meter, dtype=np.int64),
        DAY0 + offset + STEP * np.asarray(interval, dtype=np.int64),
        {"kwh": np.asarray(kwh, dtype=float)},
    )


def gaps(meter: list[int], first: list[int], count: list[int]) -> dict[str, np.ndarray]:
    return {
        "meter": np.asarray(meter, dtype=np.int64),
        "first_ts": DAY0 + STEP * np.asarray(first, dtype=np.int64),
        "count": np.asarray(count, dtype=np.int64),
        "step_s": np.full(len(meter), STEP, dtype=np.int64),
    }


def test_gaps_up_to_an_hour_are_interpolated_linearly_between_neighbours() -> None:
    known = frame([0, 0], [10, 14], [1.0, 2.0])  # 11, 12, 13 missing: 45 minutes
    est = estimate_intervals(gaps([0], [11], [3]), known, frame([], [], []), MeterTable.build(1))
    assert est.value.tolist() == [1.25, 1.5, 1.75]
    assert set(est.method) == {LINEAR}
    assert ((est.ts - DAY0) // STEP).tolist() == [11, 12, 13]


def test_longer_gaps_take_the_like_day_average_of_the_last_four_weeks() -> None:
    known = frame([0, 0], [10, 16], [1.0, 2.0])  # 11..15 missing: 75 minutes
    history = Frame(
        "interval",
        np.zeros(8, dtype=np.int64),
        np.asarray(
            [DAY0 + 11 * STEP - w * WEEK for w in (1, 2, 3, 4)]
            + [DAY0 + 12 * STEP - w * WEEK for w in (1, 2, 3, 4)]
        ),
        {"kwh": np.asarray([0.4, 0.6, 0.8, 1.0, 2.0, 2.0, 2.0, np.nan])},
    )
    history = history.take(np.flatnonzero(~np.isnan(history.channels["kwh"])))
    est = estimate_intervals(gaps([0], [11], [5]), known, history.sorted()[0], MeterTable.build(1))
    assert est.value.tolist() == [0.7, 2.0]  # 13..15 have no history: left unestimated
    assert set(est.method) == {LIKE_DAY}


def test_estimates_are_scaled_to_fit_the_register_reads_on_both_sides() -> None:
    known = frame([0, 0], [10, 14], [1.0, 2.0])
    meters = MeterTable.build(
        1,
        multiplier=2.0,
        register_start_kwh=100.0,
        register_end_kwh=104.0,  # 8 kWh across the window: 3 known, 5 for the gap
        register_start_ts=DAY0 + 9 * STEP,
        register_end_ts=DAY0 + 14 * STEP,
    )
    est = estimate_intervals(gaps([0], [11], [3]), known, frame([], [], []), meters)
    # linear 1.25, 1.5, 1.75 (sum 4.5) scaled by 5 / 4.5
    assert np.allclose(est.value, [1.25 * 5 / 4.5, 1.5 * 5 / 4.5, 1.75 * 5 / 4.5])
    assert set(est.method) == {LINEAR + "+register_scaled"}


def test_without_neighbours_or_history_the_register_remainder_is_spread_evenly() -> None:
    known = frame([0], [10], [1.0])
    meters = MeterTable.build(
        1,
        register_start_kwh=0.0,
        register_end_kwh=7.0,
        register_start_ts=DAY0,
        register_end_ts=DAY0 + 20 * STEP,
    )
    est = estimate_intervals(gaps([0], [11], [6]), known, frame([], [], []), meters)
    assert est.value.tolist() == [1.0] * 6
    assert set(est.method) == {PRORATED}


def test_scalar_estimate_is_previous_read_plus_average_daily_use_times_days() -> None:
    read = estimate_scalar(
        np.array([1000.0]), np.array([0]), np.array([30 * 86_400]), np.array([4.0]), np.array([1.0])
    )
    assert read.tolist() == [1120.0]
