"""Billing determinants math: energy across a replacement, TOD split, MD with time, PF."""

from __future__ import annotations

import numpy as np

from rules.determinants import Intervals, Segments, compute, zone_of, zone_table
from rules.frames import Q_FAILED, Q_RAW, Q_VALID
from tests.rules.helpers import DAY0

H = 3600


def test_tod_zone_is_taken_from_the_local_start_of_the_interval() -> None:
    ends = DAY0 + np.array([7 * H, 18 * H, 23 * H, 1 * H, 12 * H])
    assert zone_of(ends, np.full(5, 1800), zone_table()).tolist() == [2, 3, 4, 4, 1]


def test_energy_across_a_mid_period_replacement_uses_final_and_initial_reads() -> None:
    # consumer 0: old meter 1000 -> final 1150 (MF 1); new meter initial 0 -> 210 (MF 2)
    segments = Segments(
        consumer=np.array([0, 0, 1]),
        start_kwh=np.array([1000.0, 0.0, 50.0]),
        end_kwh=np.array([1150.0, 210.0, 80.0]),
        start_kvah=np.array([1100.0, 0.0, 60.0]),
        end_kvah=np.array([1270.0, 240.0, 100.0]),
        multiplier=np.array([1.0, 2.0, 1.0]),
        display_digits=np.array([6, 6, 6]),
        expected_intervals=np.array([4, 2, 4]),
    )
    intervals = Intervals(
        consumer=np.array([0, 0, 0, 0, 0, 1]),
        ts=DAY0 + np.array([7 * H, 12 * H, 18 * H, 23 * H, 13 * H, 12 * H]),
        step_s=np.full(6, H),
        kwh=np.array([10.0, 20.0, 30.0, 40.0, 999.0, 5.0]),
        kvah=np.array([12.0, 22.0, 33.0, 44.0, 999.0, 6.0]),
        quality=np.array([Q_VALID, Q_VALID, Q_VALID, Q_VALID, Q_FAILED, Q_RAW], dtype=np.int8),
    )
    d = compute(2, segments, intervals)
    assert d.kwh.tolist() == [150.0 + 420.0, 30.0]
    assert d.kvah.tolist() == [170.0 + 480.0, 40.0]
    # zones from valid intervals only (failed 999 and raw 5 excluded), scaled to 570 kWh
    assert np.allclose(d.kwh_by_zone[0], np.array([20.0, 10.0, 30.0, 40.0]) * 570 / 100)
    assert d.kwh_by_zone[1].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert (d.md_kw[0], d.md_kw_at[0]) == (40.0, DAY0 + 23 * H)
    assert (d.md_kva[0], d.md_kva_at[0]) == (44.0, DAY0 + 23 * H)
    assert d.avg_pf.tolist() == [round(570 / 650, 4), 0.75]
    assert d.energy_source.tolist() == ["registers", "registers"]
    assert d.quality_counts[0].tolist() == [0, 4, 0, 0, 1, 0]
    assert d.expected_intervals.tolist() == [6, 4]


def test_without_register_reads_energy_is_the_sum_of_validated_intervals() -> None:
    segments = Segments(
        consumer=np.array([0]),
        start_kwh=np.array([np.nan]),
        end_kwh=np.array([np.nan]),
        start_kvah=np.array([np.nan]),
        end_kvah=np.array([np.nan]),
        multiplier=np.array([1.0]),
        display_digits=np.array([6]),
        expected_intervals=np.array([2]),
    )
    intervals = Intervals(
        consumer=np.array([0, 0]),
        ts=DAY0 + np.array([12 * H, 13 * H]),
        step_s=np.full(2, H),
        kwh=np.array([1.5, 2.5]),
        kvah=np.array([2.0, 3.0]),
        quality=np.array([Q_VALID, Q_VALID], dtype=np.int8),
    )
    d = compute(1, segments, intervals)
    assert (d.kwh.tolist(), d.kvah.tolist(), d.energy_source.tolist()) == ([4.0], [5.0], ["intervals"])
    assert d.avg_pf.tolist() == [0.8]
