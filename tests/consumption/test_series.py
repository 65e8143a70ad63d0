"""Consumer-keyed consumption against the ingested data: a replacement inside the period, a
scalar consumer, another consumer's meters never counted, and the tariff seam."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from service.consumption import Tariff, buckets, consumption
from tests.consumption.conftest import TODAY, Consumers


def kwh(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.001"))


def test_last_7_days_of_a_consumer_span_its_meter_replacement(session: Any, loaded: Consumers) -> None:
    series = consumption(session, loaded.ids["RC1"], "last_7_days", TODAY)
    days = [TODAY - timedelta(days=k) for k in range(6, -1, -1)]
    assert [(b.first_day, b.last_day) for b in series.buckets] == [(d, d) for d in days]
    assert series.resolution == "day"
    for bucket, day in zip(series.buckets, days, strict=True):
        expected = loaded.expected_day_kwh(["RA", "RB"], day)
        assert bucket.kwh is not None
        assert abs(bucket.kwh - kwh(expected)) <= Decimal("0.002"), day
        assert bucket.days_with_data == 1
    # The replacement day holds the old meter's morning and the new meter's afternoon, once.
    replacement_day = series.buckets[3]
    assert replacement_day.first_day == date(2026, 11, 17)
    old_part = loaded.expected_day_kwh(["RA"], date(2026, 11, 17))
    new_part = loaded.expected_day_kwh(["RB"], date(2026, 11, 17))
    assert old_part > 0 and new_part > 0
    assert abs(replacement_day.kwh - kwh(old_part + new_part)) <= Decimal("0.002")  # type: ignore[operator]


def test_the_other_consumers_meter_on_the_same_dt_is_never_counted(session: Any, loaded: Consumers) -> None:
    mine = consumption(session, loaded.ids["RC1"], "month", TODAY)
    theirs = consumption(session, loaded.ids["RC2"], "month", TODAY)
    all_days = [date(2026, 11, 10) + timedelta(days=k) for k in range(11)]
    assert abs(
        mine.total_kwh - kwh(sum(loaded.expected_day_kwh(["RA", "RB"], d) for d in all_days))
    ) < Decimal("0.02")  # type: ignore[operator]
    assert abs(theirs.total_kwh - kwh(sum(loaded.expected_day_kwh(["RX"], d) for d in all_days))) < Decimal(
        "0.02"
    )  # type: ignore[operator]


def test_current_week_month_and_year_add_up_from_the_same_days(session: Any, loaded: Consumers) -> None:
    week = consumption(session, loaded.ids["RC1"], "week", TODAY)
    assert (week.buckets[0].first_day, week.buckets[0].last_day) == (date(2026, 11, 16), TODAY)
    week_days = [date(2026, 11, 16) + timedelta(days=k) for k in range(5)]
    assert abs(
        week.total_kwh - kwh(sum(loaded.expected_day_kwh(["RA", "RB"], d) for d in week_days))
    ) < Decimal("0.01")  # type: ignore[operator]
    month = consumption(session, loaded.ids["RC1"], "month", TODAY).total_kwh
    year = consumption(session, loaded.ids["RC1"], "year", TODAY).total_kwh
    assert month == year  # no data before 10 Nov
    four_weeks = consumption(session, loaded.ids["RC1"], "last_4_weeks", TODAY)
    assert [b.first_day for b in four_weeks.buckets] == [date(2026, 10, 26), date(2026, 11, 2),
                                                          date(2026, 11, 9), date(2026, 11, 16)]  # fmt: skip
    assert four_weeks.buckets[0].kwh is None and four_weeks.buckets[1].kwh is None  # missing, not zero
    assert four_weeks.buckets[3].kwh == week.buckets[0].kwh


def test_a_scalar_consumer_gets_its_monthly_reads_across_a_meter_replacement(
    session: Any, loaded: Consumers
) -> None:
    series = consumption(session, loaded.ids["RC3"], "last_6_months", TODAY)
    assert [b.first_day for b in series.buckets] == [date(2026, m, 1) for m in range(6, 12)]
    assert series.buckets[-1].last_day == date(2026, 11, 30)
    # June: 1000 since installation at 0; August: 150 read + (1300 final - 1250) at removal;
    # September: the new meter's 85 - 5 initial.
    assert [b.kwh for b in series.buckets] == [kwh(v) for v in (1000, 100, 200, 80, 120, 95)]
    assert [b.scalar_reads for b in series.buckets] == [1, 1, 2, 1, 1, 1]
    assert all(b.days_with_data == 0 and b.kwh_by_zone == () for b in series.buckets)
    two_years = consumption(session, loaded.ids["RC3"], "last_2_years", TODAY)
    assert len(two_years.buckets) == 24 and two_years.total_kwh == kwh(1595)
    today = consumption(session, loaded.ids["RC3"], "today", TODAY)
    assert today.buckets[0].kwh is None


def test_cost_is_none_without_a_tariff_and_follows_the_tariff_given(session: Any, loaded: Consumers) -> None:
    plain = consumption(session, loaded.ids["RC3"], "last_6_months", TODAY, tariff_category="XX9")
    assert plain.total_cost_inr is None and all(b.cost_inr is None for b in plain.buckets)
    # From the tariff file: LV1 slabs 50 @ 4.45, 100 @ 5.41, 150 @ 6.79, rest @ 6.98 per month;
    # 1000 kWh = 222.50 + 541.00 + 1018.50 + 700 x 6.98; 95 kWh = 222.50 + 45 x 5.41.
    filed = consumption(session, loaded.ids["RC3"], "last_6_months", TODAY)
    assert filed.buckets[0].cost_inr == Decimal("6668.00") and filed.buckets[-1].cost_inr == Decimal("465.95")
    tariff = Tariff("LV1", Decimal("6.50"))
    priced = consumption(session, loaded.ids["RC3"], "last_6_months", TODAY, tariff=tariff)
    assert [b.cost_inr for b in priced.buckets] == [Decimal("6500.00"), Decimal("650.00"), Decimal("1300.00"),
                                                    Decimal("520.00"), Decimal("780.00"), Decimal("617.50")]  # fmt: skip
    peak = Tariff("LV1", Decimal("6.00"), zone_adjustment={3: Decimal("0.20")})
    day = consumption(session, loaded.ids["RC1"], "today", TODAY, tariff=peak).buckets[0]
    assert day.kwh is not None and len(day.kwh_by_zone) == 4
    assert day.cost_inr == (day.kwh * 6 + day.kwh_by_zone[2] * Decimal("1.20")).quantize(Decimal("0.01"))


def test_two_statements_per_call_whatever_the_number_of_buckets(session: Any, loaded: Consumers) -> None:
    statements: list[str] = []
    engine = session.get_bind()

    def count(*_args: Any) -> None:
        statements.append("x")

    event.listen(engine, "before_cursor_execute", count)
    try:
        consumption(session, loaded.ids["RC1"], "last_2_years", TODAY, tariff_category="LV1")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 2


@pytest.mark.parametrize("period", ["", "last_3_days", "TODAY", "today; DROP TABLE consumers"])
def test_an_unknown_period_is_refused_by_name(period: str) -> None:
    with pytest.raises(ValueError, match="unknown period"):
        buckets(period, TODAY)


def test_month_buckets_cross_a_year_end() -> None:
    resolution, ranges = buckets("last_6_months", date(2027, 2, 14))
    assert resolution == "month"
    assert [(r.first_day, r.last_day) for r in ranges][:2] == [
        (date(2026, 9, 1), date(2026, 9, 30)),
        (date(2026, 10, 1), date(2026, 10, 31)),
    ]
    assert ranges[-1] == type(ranges[-1])(date(2027, 2, 1), date(2027, 2, 28))
