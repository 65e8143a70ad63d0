"""Every report of REFERENCE section 8 is registered, answers on the crafted set, and the
ones with data there give the numbers computed by hand from the loads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pytest

from service.auth.principal import Principal
from service.reports import registry, running
from tests.reports.conftest import Grid

MIS = {
    "amr_consumption", "amr_event_analysis", "atr_event_wise", "atr_validation_wise",
    "atr_summary_vigilance", "atr_circle_wise", "atr_division_wise", "mdas_hourly_consumption",
    "agricultural_load_analysis", "live_data_hourly", "load_survey", "peak_load_analysis",
    "energy_audit_circle", "zero_consumption", "scalar_consumption_analysis",
    "scalar_validation_analysis", "energy_audit_feeder", "energy_audit_dt", "atc_loss",
    # the ATR reports daily as well as monthly, and the rules' feedback (tests/revenue has their numbers)
    "atr_event_wise_daily", "atr_validation_wise_daily", "atr_summary_vigilance_daily",
    "atr_circle_wise_daily", "atr_division_wise_daily", "atr_rule_feedback",
}  # fmt: skip
# Reports other areas declare through the same registry.
OTHER_AREAS = {
    "disconnection_summary", "meters_by_make_status", "warranty_expiring", "meter_failure_rate",
    "reliability_indices", "outage_failure_monitoring",
}  # fmt: skip
ALL = Principal("user", "analyst", None, role="analyst")


def run(session: Any, name: str, **args: str) -> list[dict[str, Any]]:
    report = registry.get(name)
    assert report is not None
    resolved = running.resolve(session(), report, args, ALL, date(2026, 11, 3))
    return running.page(session(), report, resolved, ALL, 1, 500)["items"]


def test_every_named_report_is_registered() -> None:
    assert set(registry.REPORTS) == MIS | OTHER_AREAS


def test_every_report_page_answers(session: Any, loaded: Grid, login: Callable[[str], Any]) -> None:
    client = login("analyst")
    for name in sorted(MIS):
        response = client.get(f"/reports/{name}?period=2026-10&day=2026-10-05")
        assert response.status_code == 200, name


def test_amr_consumption_sums_the_amr_meter(session: Any, loaded: Grid) -> None:
    items = run(session, "amr_consumption", period="2026-10", level="division")
    assert [(i["org_unit"], i["meter_class"], i["meter_days"]) for i in items] == [("BPLC-D1", "lt_amr", 31)]
    assert items[0]["kwh_import"] == pytest.approx(float(loaded.loads["RA3"][1].sum()), rel=1e-9)
    assert items[0]["completeness_pct"] == pytest.approx(100.0)


def test_mdas_hourly_and_peak_load_of_a_feeder(session: Any, loaded: Grid) -> None:
    items = run(session, "mdas_hourly_consumption", day="2026-10-05", network="RF1")
    assert len(items) == 24
    rf1 = np.zeros(31 * 96)
    for dt, values in loaded.loads.values():
        if dt == "RT1":
            rf1 += values
        elif dt == "RT2":
            rf1[: 15 * 96] += values[: 15 * 96]
    input_ = np.round(rf1 / 0.92, 6)
    day5 = input_[4 * 96 : 5 * 96]
    assert [i["kwh"] for i in items] == pytest.approx(list(day5.reshape(24, 4).sum(axis=1)), rel=1e-9)
    assert items[0]["hour_end"].astimezone(running.IST).hour == 1  # 00:00-01:00 IST
    peaks = {i["network"]: i for i in run(session, "peak_load_analysis", period="2026-10")}
    assert peaks["RF1"]["peak_kw"] == pytest.approx(float(input_.max() * 4), rel=1e-9)
    assert peaks["RF1"]["days"] == 31 and peaks["RF2"]["days"] == 28


def test_reports_without_data_here_are_empty_not_failing(session: Any, loaded: Grid) -> None:
    for name in (
        "meters_by_make_status",  # no meter assets in the grid (tests/assets has their numbers)
        "warranty_expiring",
        "meter_failure_rate",
        "atr_event_wise",
        "atr_circle_wise",
        "load_survey",
        "scalar_consumption_analysis",
        "zero_consumption",
    ):
        assert run(session, name, period="2026-10", day="2026-10-05") == [], name
