"""Tariff file and bill function against hand-computed bills: slab boundaries, daily proration that
adds up to the monthly bill, rebate and duty rounding, effective dates, file:line errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rules.tariffs import TariffVersion, load_file, load_text

D = Decimal


@pytest.fixture(scope="module")
def lv1() -> TariffVersion:
    book = load_file().book
    assert book is not None
    version = book.in_force("LV1", date(2026, 11, 15))
    assert version is not None and version.version == "LV1-2026-04"
    return version


def test_slab_boundary_charges_the_next_kwh_at_the_next_slab(lv1: TariffVersion) -> None:
    # 50 x 4.45 + 100 x 5.41 = 763.50 at 150 kWh; the 151st kWh is at 6.79.
    assert lv1.bill(D(150), days=30, days_in_month=30).line("energy") == D("763.50")
    assert lv1.bill(D(151), days=30, days_in_month=30).line("energy") == D("770.29")
    assert lv1.bill(D(50), days=30, days_in_month=30).line("energy") == D("222.50")
    assert lv1.bill(D("50.5"), days=30, days_in_month=30).line("energy") == D("225.21")  # 222.50 + 2.705


def test_monthly_slab_bill_with_rebate_duty_and_fppas(lv1: TariffVersion) -> None:
    bill = lv1.bill(D(200), days=30, days_in_month=30, sanctioned_load_kw=D(2), prepaid=True)
    # fixed 30 x 2 kW = 60.00; energy 222.50 + 541.00 + 50 x 6.79 = 1103.00; rebate 3% = 33.09;
    # duty 9% of 1069.91 = 96.2919 -> 96.29; FPPAS 2.5% of 1129.91 = 28.24775 -> 28.25.
    assert [(x.name, x.amount_inr) for x in bill.lines] == [
        ("fixed", D("60.00")), ("energy", D("1103.00")), ("prepaid_rebate", D("-33.09")),
        ("electricity_duty", D("96.29")), ("fppas", D("28.25")),
    ]  # fmt: skip
    assert bill.total_inr == D("1254.45")
    postpaid = lv1.bill(D(200), days=30, days_in_month=30, sanctioned_load_kw=D(2))
    assert postpaid.line("prepaid_rebate") == 0 and postpaid.line("electricity_duty") == D(
        "99.27"
    )  # 9% of 1103


def test_daily_charges_cross_the_slab_on_the_day_the_month_does(lv1: TariffVersion) -> None:
    kw = {"days_in_month": 30, "sanctioned_load_kw": D(2)}
    # bill-to-date(50 kWh, 5 days) 250.89 - bill-to-date(40 kWh, 4 days) 200.72
    assert lv1.daily_charge(D(40), D(10), day_of_month=5, **kw) == D("50.17")  # type: ignore[arg-type]
    # bill-to-date(60 kWh, 6 days) 311.46 - 250.89: the 10 kWh are now at 5.41
    assert lv1.daily_charge(D(50), D(10), day_of_month=6, **kw) == D("60.57")  # type: ignore[arg-type]


def test_daily_charges_of_a_month_add_up_to_the_monthly_bill(lv1: TariffVersion) -> None:
    uses = [D("7.5"), D("12.25"), D("0"), D("31.3")] * 7 + [D("9.99"), D("40")]  # 30 days, uneven
    total, before = D(0), D(0)
    for day, kwh in enumerate(uses, start=1):
        total += lv1.daily_charge(before, kwh, day_of_month=day, days_in_month=30, sanctioned_load_kw=D(3))
        before += kwh
    monthly = lv1.bill(before, days=30, days_in_month=30, sanctioned_load_kw=D(3), prepaid=True)
    assert before == D("407.34") and total == monthly.total_inr
    # fixed 90.00; energy 222.50 + 541.00 + 1018.50 + 107.34 x 6.98 (749.2332) = 2531.23; rebate
    # 75.94 (75.9369); duty 9% of 2455.29 = 220.98 (220.9761); FPPAS 2.5% of 2545.29 = 63.63
    assert (
        monthly.total_inr == D("90.00") + D("2531.23") - D("75.94") + D("220.98") + D("63.63") == D("2829.90")
    )


def test_flat_tariff_and_its_effective_dates() -> None:
    book = load_file().book
    assert book is not None
    assert book.in_force("LV2", date(2026, 3, 31)) is None
    november = book.in_force("LV2", date(2026, 11, 30))
    december = book.in_force("LV2", date(2026, 12, 1))
    assert november is not None and december is not None and book.latest("LV2") == december
    assert (november.version, december.version) == ("LV2-2026-04", "LV2-2026-12")
    # 100 kWh x 7.25 = 725.00; 30 days x 4.50 = 135.00; rebate 2% = 14.50; duty 12% of 845.50 = 101.46
    bill = november.bill(D(100), days=30, days_in_month=30, prepaid=True)
    assert bill.total_inr == D("946.96")
    # day 1, 4 kWh: energy 29.00, fixed 4.50, rebate 0.58, duty 12% of 32.92 = 3.9504 -> 3.95
    assert november.daily_charge(D(0), D(4), day_of_month=1, days_in_month=30) == D("36.87")
    # December at 7.40: energy 29.60, fixed 4.50, rebate 0.592 -> 0.59, duty 12% of 33.51 = 4.0212
    assert december.daily_charge(D(0), D(4), day_of_month=1, days_in_month=31) == D("37.53")


def test_the_shipped_file_loads() -> None:
    result = load_file()
    assert result.errors == [] and result.book is not None
    assert {v.category for v in result.book.versions} >= {"LV1", "LV2"}


GOOD = """tariff_order: test
versions:
  - version: A-1
    category: LV1
    effective_from: 2026-04-01
    solution: flat
    energy_inr_per_kwh: 5
    fixed_inr_per_day: 1
"""


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("energy_inr_per_kwh: 5", "energy_inr_per_kwh: -5"), "t.yaml:7: versions[0].energy_inr_per_kwh: -5 is less than the minimum of 0"),
        (("effective_from: 2026-04-01", "effective_from: April"), "t.yaml:5: versions[0].effective_from: expected a date YYYY-MM-DD, got 'April'"),
        (("    fixed_inr_per_day: 1\n", "    fixed_inr_per_day: 1\n    slabs:\n      - inr_per_kwh: 3\n"), "t.yaml:10: versions[0].slabs: slabs does not belong in a flat tariff"),
        (("solution: flat", "solution: slab"), "t.yaml:3: versions[0]: a slab tariff needs fixed_inr_per_kw_month"),
        (("solution: flat", "solution: hourly"), "t.yaml:6: versions[0].solution: 'hourly' is not one of ['flat', 'slab']"),
        (("versions:", "versions: {"), "t.yaml:3: YAML syntax"),
    ],
)  # fmt: skip
def test_a_bad_tariff_file_is_refused_with_file_and_line(change: tuple[str, str], expected: str) -> None:
    result = load_text(GOOD.replace(*change), "t.yaml")
    assert result.book is None and str(result.errors[0]).startswith(expected), result.errors


def test_slabs_must_rise_and_only_the_last_is_open() -> None:
    text = """tariff_order: test
versions:
  - version: B-1
    category: LV1
    effective_from: 2026-04-01
    solution: slab
    fixed_inr_per_kw_month: 10
    slabs:
      - upto_kwh: 100
        inr_per_kwh: 4
      - upto_kwh: 100
        inr_per_kwh: 5
      - inr_per_kwh: 6
      - upto_kwh: 500
        inr_per_kwh: 7
"""
    errors = [str(e) for e in load_text(text, "s.yaml").errors]
    assert errors == [
        "s.yaml:11: versions[0].slabs[1].upto_kwh: slab limits must rise: 100 after 100",
        "s.yaml:13: versions[0].slabs[2]: only the last slab may leave out upto_kwh",
        "s.yaml:14: versions[0].slabs[3].upto_kwh: the last slab has no upper limit: leave out upto_kwh",
    ]


def test_a_repeated_version_or_start_date_is_refused() -> None:
    text = GOOD + GOOD.split("versions:\n")[1]
    errors = [str(e) for e in load_text(text, "d.yaml").errors]
    assert errors == [
        "d.yaml:9: versions[1].version: duplicate version 'A-1' (first at line 3)",
        "d.yaml:11: versions[1].effective_from: LV1 already has a version from 2026-04-01 (first at line 3)",
    ]
