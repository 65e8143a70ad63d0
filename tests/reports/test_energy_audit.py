"""Energy audit on a crafted network with known losses, a DT moved mid-month, a missing input."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

from service.auth.principal import Principal
from service.reports import registry, running
from tests.reports.conftest import Grid, sold_on

WHOLE_DISCOM = Principal("user", "analyst", None, role="analyst")


def rows(
    session: Any, name: str, principal: Principal = WHOLE_DISCOM, **args: str
) -> dict[str, dict[str, Any]]:
    report = registry.get(name)
    assert report is not None
    resolved = running.resolve(session(), report, {"period": "2026-10", **args}, principal, date(2026, 11, 3))
    result = running.page(session(), report, resolved, principal, 1, 500)
    key = report.columns[0].key
    return {r[key]: r for r in result["items"]}


def test_feeder_loss_is_the_known_loss_within_a_tenth_of_a_percent(session: Any, loaded: Grid) -> None:
    feeders = rows(session, "energy_audit_feeder")
    rf1 = feeders["RF1"]
    assert rf1["input_status"] == "complete"
    assert rf1["loss_pct"] == pytest.approx(8.0, abs=0.1)
    assert rf1["sold_kwh"] == pytest.approx(sold_on(loaded, {"RT1": (0, 31), "RT2": (0, 15)}), rel=1e-6)


def test_dt_moved_mid_month_counts_on_each_side_for_its_days(session: Any, loaded: Grid) -> None:
    days = session.execute(
        text(
            "SELECT day, feeder_id FROM agg_network_day WHERE network_kind = 'dtr' AND network_id = :dt"
            " ORDER BY day"
        ),
        {"dt": loaded.ids["RT2"]},
    ).all()
    assert [d.feeder_id for d in days if d.day < date(2026, 10, 16)] == [loaded.ids["RF1"]] * 15
    assert [d.feeder_id for d in days if d.day >= date(2026, 10, 16)] == [loaded.ids["RF2"]] * 16
    feeders = rows(session, "energy_audit_feeder")
    assert feeders["RF2"]["sold_kwh"] == pytest.approx(
        sold_on(loaded, {"RT3": (0, 31), "RT2": (15, 31)}), rel=1e-6
    )
    assert feeders["RF1"]["sold_kwh"] + feeders["RF2"]["sold_kwh"] == pytest.approx(
        sold_on(loaded, {"RT1": (0, 31), "RT2": (0, 31), "RT3": (0, 31)}), rel=1e-6
    )


def test_missing_feeder_input_is_shown_as_missing_never_zero(session: Any, loaded: Grid) -> None:
    rf2 = rows(session, "energy_audit_feeder")["RF2"]
    assert rf2["input_status"] == "input missing on 3 of 31 days"
    assert rf2["input_kwh"] is None
    assert rf2["loss_kwh"] is None and rf2["loss_pct"] is None
    circles = rows(session, "energy_audit_circle", level="circle")
    assert circles["SHR"]["feeders_missing_input"] == 1
    assert circles["SHR"]["input_kwh"] == 0  # no audited feeder: nothing claimed as input
    assert circles["SHR"]["sold_unaudited_kwh"] == pytest.approx(rf2["sold_kwh"], rel=1e-9)


def test_dt_audit_where_the_dt_has_input(session: Any, loaded: Grid) -> None:
    dts = rows(session, "energy_audit_dt")
    assert dts["RT1"]["loss_pct"] == pytest.approx(5.0, abs=0.1)
    assert dts["RT1"]["consumer_days_missing"] == 31  # the scalar consumer has no billed units yet
    assert dts["RT2"]["input_status"] == "input missing"


def test_circle_roll_up_sums_its_audited_feeders(session: Any, loaded: Grid) -> None:
    circles = rows(session, "energy_audit_circle", level="circle")
    rf1 = rows(session, "energy_audit_feeder")["RF1"]
    assert circles["BPLC"]["input_kwh"] == pytest.approx(rf1["input_kwh"], rel=1e-9)
    assert circles["BPLC"]["loss_pct"] == pytest.approx(8.0, abs=0.1)
    assert circles["BPLC"]["feeders_missing_input"] == 0
