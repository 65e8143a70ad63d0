"""Register and monthly scalar rule types on crafted reads."""

from __future__ import annotations

import numpy as np

from rules.frames import Frame, MeterTable
from tests.rules.helpers import DAY0, check

DAY = 86_400


def registers(meter: list[int], day: list[int], kwh: list[float], **channels: list[float]) -> Frame:
    return Frame(
        "register",
        np.asarray(meter, dtype=np.int64),
        DAY0 + DAY * np.asarray(day, dtype=np.int64),
        {"kwh": np.asarray(kwh, dtype=float), **{k: np.asarray(v, dtype=float) for k, v in channels.items()}},
    )


def scalar(kwh: list[float], status: list[str]) -> Frame:
    n = len(kwh)
    return Frame(
        "monthly_scalar",
        np.arange(n, dtype=np.int64),
        np.full(n, DAY0, dtype=np.int64),
        {"kwh": np.asarray(kwh, dtype=float)},
        reading_status=np.asarray(status, dtype=object),
    )


def test_decreasing_register_fails_but_a_rollover_at_display_digits_does_not() -> None:
    frame = registers([0, 0, 0, 1, 1], [0, 1, 2, 0, 1], [99_950, 99_990, 20, 500, 480])
    meters = MeterTable.build(2, display_digits=[5, 6])
    hits = check("decreasing_register", frame, meters)
    assert (hits.meter.tolist(), hits.value.tolist(), hits.reference.tolist()) == ([1], [480.0], [500.0])


def test_decreasing_register_compares_the_first_read_with_the_stored_previous_read() -> None:
    frame = registers([0, 1], [0, 0], [100, 100])
    meters = MeterTable.build(2, prev_register_kwh=[120.0, 90.0])
    assert check("decreasing_register", frame, meters).meter.tolist() == [0]


def test_a_drop_far_from_full_scale_is_not_taken_for_a_rollover() -> None:
    frame = registers([0, 0], [0, 1], [60_000, 10])
    assert len(check("decreasing_register", frame, MeterTable.build(1, display_digits=5))) == 1


def test_negative_register_on_any_listed_channel() -> None:
    frame = registers([0, 1, 2], [0, 0, 0], [5, -1, 5], kvah=[6, 6, -2])
    assert check("negative_register", frame, MeterTable.build(3)).meter.tolist() == [1, 2]


def test_md_over_load_uses_kva_for_loads_sanctioned_in_kva() -> None:
    frame = registers([0, 1, 2], [0, 0, 0], [1, 1, 1], md_kw=[7.0, 7.0, 4.0], md_kva=[7.5, 9.5, 9.9])
    meters = MeterTable.build(3, sanctioned_load=[5.0, 7.0, 7.0], load_in_kva=[False, True, False])
    hits = check("md_over_load", frame, meters)
    assert (hits.meter.tolist(), hits.value.tolist()) == ([0, 1], [7.0, 9.5])


def test_export_register_advancing_is_reverse_energy_on_a_plain_meter() -> None:
    frame = registers([0, 0, 1, 1], [0, 1, 0, 1], [1, 2, 1, 2], kwh_export=[3, 3, 3, 4])
    hits = check("reverse_energy", frame, MeterTable.build(2))
    assert (hits.meter.tolist(), hits.value.tolist()) == ([1], [1.0])


def test_average_pf_outside_zero_to_one_fails() -> None:
    frame = registers([0, 1, 2], [0, 0, 0], [1, 1, 1], avg_pf=[0.95, 1.02, -0.2])
    assert check("pf_range", frame, MeterTable.build(3)).meter.tolist() == [1, 2]


def test_reading_status_other_than_accepted_is_flagged_with_the_status() -> None:
    frame = scalar([100, 100, 100], ["normal", "door_locked", "meter_burnt"])
    hits = check("reading_status", frame, MeterTable.build(3, meter_class="scalar"))
    assert (hits.meter.tolist(), hits.extra["status"].tolist()) == ([1, 2], ["door_locked", "meter_burnt"])
    loose = check("reading_status", frame, MeterTable.build(3), accepted=["normal", "door_locked"])
    assert loose.meter.tolist() == [2]


def test_scalar_high_low_against_the_average_of_the_last_months() -> None:
    frame = scalar([1160, 1040, 1090], ["normal"] * 3)
    meters = MeterTable.build(3, prev_register_kwh=1000.0, avg_monthly_kwh=100.0)
    hits = check("scalar_high_low", frame, meters)
    assert (hits.meter.tolist(), hits.value.tolist()) == ([0, 1], [160.0, 40.0])


def test_zero_consumption_needs_a_previous_read() -> None:
    frame = scalar([1000, 1000, 1200], ["normal"] * 3)
    meters = MeterTable.build(3, prev_register_kwh=[1000.0, np.nan, 1000.0])
    assert check("zero_consumption", frame, meters).meter.tolist() == [0]
