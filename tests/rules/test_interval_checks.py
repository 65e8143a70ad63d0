"""Each interval rule type trips exactly where the crafted defect is, and nowhere else."""

from __future__ import annotations

import numpy as np

from rules.frames import Q_ESTIMATED, Q_FAILED, Q_RAW, Q_SUSPECT, Q_VALID, Frame, MeterTable
from tests.rules.helpers import DAY0, STEP, check, day_profile, flagged_rows, rule, run


def at(frame: Frame, meter: int, interval: int) -> int:
    return int(np.flatnonzero((frame.meter == meter) & (frame.ts == DAY0 + interval * STEP))[0])


def test_a_clean_day_passes_every_interval_rule() -> None:
    frame = day_profile(3)
    meters = MeterTable.build(3, sanctioned_load=5.0, avg_daily_kwh=24.0)
    types = ["gap", "spike", "zero_run", "static", "high_low", "reverse_energy", "demand_over_load"]
    result = run(frame, meters, *[rule(t) for t in types])
    assert result.failure_count == 0
    assert (result.quality == Q_VALID).all()


def test_gap_reports_each_run_of_missing_intervals_with_its_count() -> None:
    frame = day_profile(3)
    drop = np.isin(np.arange(len(frame)), [at(frame, 1, i) for i in (10, 11, 12)] + [at(frame, 2, 50)])
    frame = frame.take(np.flatnonzero(~drop))
    hits = check("gap", frame, MeterTable.build(3))
    assert list(zip(hits.meter, (hits.ts - DAY0) // STEP, hits.value, strict=True)) == [
        (1, 10, 3.0),
        (2, 50, 1.0),
    ]


def test_gap_at_the_window_edges_is_found_from_the_meter_window() -> None:
    frame = day_profile(1)
    frame = frame.take(np.arange(2, 94))  # intervals 3..94 of 96
    meters = MeterTable.build(1, window_start_ts=DAY0, window_end_ts=DAY0 + 86_400)
    hits = check("gap", frame, meters)
    assert list(zip((hits.ts - DAY0) // STEP, hits.value, strict=True)) == [(1, 2.0), (95, 2.0)]


def test_gap_tolerates_up_to_max_missing_per_meter() -> None:
    frame = day_profile(1)
    frame = frame.take(np.flatnonzero(np.arange(96) != 40))
    assert len(check("gap", frame, MeterTable.build(1), max_missing=1)) == 0
    assert len(check("gap", frame, MeterTable.build(1), max_missing=0)) == 1


def test_spike_flags_only_the_peak_interval_above_five_times_the_third_highest() -> None:
    frame = day_profile(3)
    frame.channels["kwh"][at(frame, 0, 30)] = 2.0  # 2.0 / ~0.30 > 5x
    frame.channels["kwh"][at(frame, 1, 30)] = 1.2  # 1.2 / ~0.30 = 4x: not a spike
    result = run(frame, MeterTable.build(3), rule("spike"))
    assert flagged_rows(frame, result) == [(0, 30)]
    hits = result.findings[0].hits
    third_highest = np.sort(frame.channels["kwh"][frame.meter == 0])[-3]
    assert (hits.value.tolist(), hits.reference.tolist()) == ([2.0], [third_highest])


def test_zero_run_flags_eight_consecutive_zeros_but_not_seven() -> None:
    frame = day_profile(2)
    for i in range(20, 28):
        frame.channels["kwh"][at(frame, 0, i)] = 0.0
    for i in range(20, 27):
        frame.channels["kwh"][at(frame, 1, i)] = 0.0
    result = run(frame, MeterTable.build(2), rule("zero_run", severity="warn"))
    assert flagged_rows(frame, result) == [(0, i) for i in range(20, 28)]
    assert (result.quality[frame.meter == 0][19:27] == Q_SUSPECT).all()
    hits = result.findings[0].hits
    assert (hits.value.tolist(), ((hits.ts - DAY0) // STEP).tolist()) == ([8.0], [20])


def test_zero_run_ignores_zeros_while_the_meter_has_no_voltage() -> None:
    frame = day_profile(1)
    frame.channels["voltage_v"] = np.full(len(frame), 230.0)
    frame.channels["kwh"][20:30] = 0.0
    frame.channels["voltage_v"][20:30] = 0.0  # supply off: zeros are expected
    assert len(check("zero_run", frame, MeterTable.build(1), min_voltage_v=100)) == 0


def test_a_gap_breaks_a_zero_run() -> None:
    frame = day_profile(1)
    frame.channels["kwh"][20:30] = 0.0
    frame = frame.take(np.flatnonzero(np.arange(96) != 24))  # 4 zeros, gap, 5 zeros
    assert len(check("zero_run", frame, MeterTable.build(1))) == 0


def test_static_flags_eight_identical_non_zero_values() -> None:
    frame = day_profile(2)
    frame.channels["kwh"][at(frame, 1, 60) : at(frame, 1, 68) + 1] = 0.5
    hits = check("static", frame, MeterTable.build(2))
    assert (hits.meter.tolist(), ((hits.ts - DAY0) // STEP).tolist(), hits.value.tolist()) == (
        [1],
        [60],
        [9.0],
    )
    assert hits.rows.sum() == 9


def test_high_low_flags_days_far_from_the_average_daily_use() -> None:
    frame = day_profile(3)  # about 24 kWh a day each
    meters = MeterTable.build(3, avg_daily_kwh=[24.0, 12.0, 60.0])
    hits = check("high_low", frame, meters)
    assert hits.meter.tolist() == [1, 2]  # 24 > 12 x 1.5 and 24 < 60 x 0.5
    assert hits.rows.sum() == 192


def test_sum_check_compares_interval_sum_with_register_delta_times_multiplier() -> None:
    frame = day_profile(3)
    day_kwh = float(frame.channels["kwh"][:96].sum())
    meters = MeterTable.build(
        3,
        multiplier=[1.0, 10.0, 10.0],
        register_start_kwh=[100.0, 1000.0, 1000.0],
        register_end_kwh=[100.0 + day_kwh, 1000.0 + day_kwh / 10, 1000.0 + day_kwh / 10 * 1.05],
        register_start_ts=DAY0,
        register_end_ts=DAY0 + 86_400,
    )
    hits = check("sum_check", frame, meters)
    assert hits.meter.tolist() == [2]
    assert round(float(hits.reference[0]), 3) == round(day_kwh * 1.05, 3)


def test_sum_check_counts_through_a_register_rollover() -> None:
    frame = day_profile(1)
    day_kwh = float(frame.channels["kwh"].sum())
    meters = MeterTable.build(
        1,
        display_digits=5,
        register_start_kwh=99_990.0,
        register_end_kwh=99_990.0 + day_kwh - 100_000,
        register_start_ts=DAY0,
        register_end_ts=DAY0 + 86_400,
    )
    assert len(check("sum_check", frame, meters)) == 0


def test_reverse_energy_only_on_meters_that_are_not_net_metered() -> None:
    frame = day_profile(2)
    frame.channels["kwh_export"] = np.zeros(len(frame))
    frame.channels["kwh_export"][[at(frame, 0, 5), at(frame, 1, 5)]] = 0.2
    hits = check("reverse_energy", frame, MeterTable.build(2, net_metered=[False, True]))
    assert (hits.meter.tolist(), ((hits.ts - DAY0) // STEP).tolist()) == ([0], [5])


def test_demand_over_load_uses_energy_times_intervals_per_hour() -> None:
    frame = day_profile(1)
    frame.channels["kwh"][40] = 1.7  # 6.8 kW > 5 kW x 1.3
    frame.channels["kwh"][41] = 1.6  # 6.4 kW < 6.5 kW
    hits = check("demand_over_load", frame, MeterTable.build(1, sanctioned_load=5.0))
    assert ((hits.ts - DAY0) // STEP).tolist() == [41]
    assert hits.value.tolist() == [6.8]


def test_future_timestamps_beyond_the_tolerance_fail() -> None:
    frame = day_profile(1)
    now = DAY0 + 50 * STEP
    result = run(frame, MeterTable.build(1), rule("future_timestamp", tolerance_minutes=15), now=now)
    assert flagged_rows(frame, result) == [(0, i) for i in range(52, 97)]


def test_clock_drift_and_multiplier_mismatch_flag_the_whole_meter_once() -> None:
    frame = day_profile(3)
    meters = MeterTable.build(
        3,
        clock_drift_seconds=[60.0, 400.0, np.nan],
        multiplier=[10.0, 10.0, 10.0],
        reported_multiplier=[10, 20, np.nan],
    )
    drift = check("clock_drift", frame, meters)
    assert (drift.meter.tolist(), drift.rows.sum()) == ([1], 96)
    mismatch = check("multiplier_mismatch", frame, meters)
    assert (mismatch.meter.tolist(), mismatch.value.tolist(), mismatch.reference.tolist()) == (
        [1],
        [20.0],
        [10.0],
    )


def test_electrical_sanity_pf_kvah_and_frequency() -> None:
    frame = day_profile(1)
    frame.channels["pf"] = np.full(96, 0.9)
    frame.channels["frequency_hz"] = np.full(96, 50.0)
    frame.channels["pf"][3] = 1.2
    frame.channels["pf"][4] = -0.1
    frame.channels["kvah"][10] = frame.channels["kwh"][10] * 0.9
    frame.channels["frequency_hz"][20] = 46.0
    meters = MeterTable.build(1)
    assert ((check("pf_range", frame, meters).ts - DAY0) // STEP).tolist() == [4, 5]
    assert ((check("kvah_below_kwh", frame, meters).ts - DAY0) // STEP).tolist() == [11]
    assert ((check("frequency_band", frame, meters).ts - DAY0) // STEP).tolist() == [21]


def test_prolonged_estimation_counts_history_and_the_batch() -> None:
    frame = day_profile(2)
    frame.quality_in[:10] = Q_ESTIMATED  # meter 0: 10 of 96 here
    meters = MeterTable.build(2, history_estimated=[300, 0], history_total=[2784, 2784])
    hits = check("prolonged_estimation", frame, meters)
    assert hits.meter.tolist() == [0]
    assert round(float(hits.value[0]), 2) == round(310 / 2880 * 100, 2)


def test_severity_decides_failed_or_suspect_and_estimated_rows_keep_their_flag() -> None:
    frame = day_profile(1)
    frame.channels["kwh"][30] = 3.0
    frame.channels["kwh"][60:70] = 0.0
    frame.quality_in[65] = Q_ESTIMATED
    result = run(frame, MeterTable.build(1), rule("spike", "fail"), rule("zero_run", "warn"))
    assert result.quality[30] == Q_FAILED
    assert (result.quality[[60, 64, 66, 69]] == Q_SUSPECT).all()
    assert result.quality[65] == Q_ESTIMATED


def test_rule_scope_limits_a_rule_to_matching_meters() -> None:
    from rules.loader import Rule, Scope

    frame = day_profile(2)
    frame.channels["kwh"][frame.meter == 0] = 0.0
    frame.channels["kwh"][frame.meter == 1] = 0.0
    meters = MeterTable.build(2, feeder_type=["agricultural", "urban"])
    base = rule("zero_run")
    scoped = Rule(**{**vars(base), "scope": Scope(feeder_type=("urban",))})
    result = run(frame, meters, scoped)
    assert {m for m, _ in flagged_rows(frame, result)} == {1}


def test_rule_sets_apply_only_to_their_meter_classes_and_rows_stay_in_caller_order() -> None:
    frame = day_profile(2)
    frame.channels["kwh"][:] = 0.0
    order = np.arange(len(frame))[::-1]
    shuffled = frame.take(order)
    meters = MeterTable.build(2, meter_class=["smart_1ph", "ht_amr"])
    result = run(shuffled, meters, rule("zero_run"))
    assert (result.quality[shuffled.meter == 0] == Q_FAILED).all()
    assert (result.quality[shuffled.meter == 1] == Q_RAW).all()  # no rule set covers ht_amr here
