"""The app's consumption numbers against the stored data: RC1's meter RA was replaced by RB on
17 Nov 14:00 IST (inside the last 7 days, the last 4 weeks and this month) and the consumer
sees one series; RC3 is scalar (RS1 replaced by RS2 on 20 Aug) and gets its monthly reads in the
same shapes. Costs at the consumer's tariff from rules/tariffs/tariffs.yaml."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from sqlalchemy import text

from tests.consumers.conftest import AppSignIn
from tests.consumption.conftest import TODAY, Consumers

LV2_RATE = Decimal("7.25")  # LV2-2026-04: flat, in force on 20 Nov 2026


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def expected(c: Consumers, first: date, last: date) -> float:
    return sum(c.expected_day_kwh(["RA", "RB"], d) for d in days(first, last))


def close(value: str | None, want: float) -> bool:
    # Each bucket is rounded to 0.001 kWh; the expectation sums the raw intervals.
    return value is not None and abs(float(value) - want) <= 0.0005 + 1e-9


def flat_cost(kwh: str) -> str:
    return str((Decimal(kwh) * LV2_RATE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def get(app_sign_in: AppSignIn, headers: dict[str, str], path: str) -> Any:
    answer = app_sign_in.client.get(f"/api/v1/consumer/{path}", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


@pytest.fixture
def rc1(loaded: Consumers, app_sign_in: AppSignIn, session: Any) -> Callable[[str], Any]:
    """RC1 on the flat LV2 tariff, signed in: rc1("reports/last_7_days") -> the JSON answer."""
    session.execute(text("UPDATE consumers SET tariff_category = 'LV2' WHERE ivrs_number = 'RC1'"))
    session.commit()
    headers = app_sign_in.headers("RC1", "+919800000001")
    return lambda path: get(app_sign_in, headers, f"RC1/{path}")


def test_last_7_days_daily_across_the_meter_replacement_with_cost(
    loaded: Consumers, rc1: Callable[[str], Any]
) -> None:
    report = rc1("reports/last_7_days")
    assert report["resolution"] == "day" and report["tariff_category"] == "LV2"
    buckets = report["buckets"]
    assert [b["first_day"] for b in buckets] == [d.isoformat() for d in days(date(2026, 11, 14), TODAY)]
    # 17 Nov holds both meters: RA until 14:00 IST, RB after.
    assert (
        loaded.expected_day_kwh(["RA"], date(2026, 11, 17))
        > 0
        < loaded.expected_day_kwh(["RB"], date(2026, 11, 17))
    )
    for b in buckets:
        day = date.fromisoformat(b["first_day"])
        assert close(b["kwh"], loaded.expected_day_kwh(["RA", "RB"], day)), (day, b)
        assert b["cost_inr"] == flat_cost(b["kwh"])
        assert b["days_with_data"] >= 1
    assert buckets[3]["label"] == "Tue 17 Nov"
    assert close(report["total_kwh"], expected(loaded, date(2026, 11, 14), TODAY))


def test_last_4_weeks_by_monday_week_with_no_data_as_null_not_zero(
    loaded: Consumers, rc1: Callable[[str], Any]
) -> None:
    report = rc1("reports/last_4_weeks")
    weeks = [(b["first_day"], b["last_day"]) for b in report["buckets"]]
    assert weeks == [("2026-10-26", "2026-11-01"), ("2026-11-02", "2026-11-08"),
                     ("2026-11-09", "2026-11-15"), ("2026-11-16", "2026-11-22")]  # fmt: skip
    first, second, third, fourth = report["buckets"]
    assert first["kwh"] is None and second["kwh"] is None and first["cost_inr"] is None
    assert close(third["kwh"], expected(loaded, date(2026, 11, 10), date(2026, 11, 15)))
    assert close(fourth["kwh"], expected(loaded, date(2026, 11, 16), TODAY))  # RA, then RB
    assert fourth["cost_inr"] == flat_cost(fourth["kwh"])


def test_six_months_and_two_years_monthly(loaded: Consumers, rc1: Callable[[str], Any]) -> None:
    six = rc1("reports/last_6_months")
    assert [b["first_day"] for b in six["buckets"]] == [f"2026-{m:02d}-01" for m in range(6, 12)]
    assert [b["kwh"] for b in six["buckets"][:5]] == [None] * 5
    november = six["buckets"][-1]
    assert close(november["kwh"], expected(loaded, date(2026, 11, 10), TODAY))
    assert november["label"] == "Nov 2026" and november["cost_inr"] == flat_cost(november["kwh"])
    two = rc1("reports/last_2_years")
    assert len(two["buckets"]) == 24 and two["buckets"][0]["first_day"] == "2024-12-01"
    assert two["buckets"][-1] == november and two["total_kwh"] == november["kwh"]


def test_today_this_week_this_month_this_year(loaded: Consumers, rc1: Callable[[str], Any]) -> None:
    now = rc1("consumption")
    assert now["as_of"] == "2026-11-20"
    periods = now["periods"]
    assert (periods["today"]["first_day"], periods["week"]["first_day"]) == ("2026-11-20", "2026-11-16")
    assert (periods["month"]["first_day"], periods["year"]["first_day"]) == ("2026-11-01", "2026-01-01")
    assert close(periods["today"]["kwh"], loaded.expected_day_kwh(["RB"], TODAY))
    assert close(periods["week"]["kwh"], expected(loaded, date(2026, 11, 16), TODAY))
    assert close(periods["month"]["kwh"], expected(loaded, date(2026, 11, 10), TODAY))
    assert periods["year"]["kwh"] == periods["month"]["kwh"]
    assert all(p["cost_inr"] == flat_cost(p["kwh"]) for p in periods.values())


def test_a_scalar_consumer_gets_monthly_reads_in_the_same_shapes(
    loaded: Consumers, app_sign_in: AppSignIn
) -> None:
    headers = app_sign_in.headers("RC3", "+919800000003")
    six = get(app_sign_in, headers, "RC3/reports/last_6_months")
    # June 1000 from the installation's 0; August 150 read + (1300 final - 1250) at the
    # replacement on 20 Aug; September the new meter's 85 - 5 initial.
    assert [b["kwh"] for b in six["buckets"]] == [
        "1000.000",
        "100.000",
        "200.000",
        "80.000",
        "120.000",
        "95.000",
    ]
    assert [b["scalar_reads"] for b in six["buckets"]] == [1, 1, 2, 1, 1, 1]
    # LV1 slabs per month: 1000 kWh = 222.50 + 541.00 + 1018.50 + 700 x 6.98; 95 = 222.50 + 45 x 5.41.
    assert (six["buckets"][0]["cost_inr"], six["buckets"][-1]["cost_inr"]) == ("6668.00", "465.95")
    two = get(app_sign_in, headers, "RC3/reports/last_2_years")
    assert len(two["buckets"]) == 24 and two["total_kwh"] == "1595.000"
    week = get(app_sign_in, headers, "RC3/reports/last_7_days")
    assert all(b["kwh"] is None and b["cost_inr"] is None for b in week["buckets"])
    now = get(app_sign_in, headers, "RC3/consumption")
    assert now["periods"]["today"]["kwh"] is None and now["periods"]["month"]["kwh"] == "95.000"
    assert now["periods"]["year"]["kwh"] == "1595.000"
    # The year costs the sum of its months (each month's own slabs), never less than a month.
    assert Decimal(now["periods"]["year"]["cost_inr"]) == sum(Decimal(b["cost_inr"]) for b in six["buckets"])
    assert now["periods"]["month"]["cost_inr"] == six["buckets"][-1]["cost_inr"] == "465.95"
