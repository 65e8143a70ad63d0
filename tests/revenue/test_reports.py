"""The ATR reports and the rules' feedback through the report registry, on cases whose numbers
are counted by hand: four consumers with cases opened in October 2026 (one in September), their
evidence from VEE and analytics rules, and the action taken on each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import text

from service.auth.principal import Principal
from service.reports import registry, running
from service.revenue import Finding, add_findings
from service.revenue.actions import write_action, write_escalation

ALL = Principal("user", "analyst", None, role="analyst")
OCT = datetime(2026, 10, 5, 6, 0, tzinfo=UTC)


def run(session: Any, name: str, **args: str) -> list[dict[str, Any]]:
    report = registry.get(name)
    assert report is not None
    resolved = running.resolve(session(), report, args, ALL, date(2026, 11, 3))
    return running.page(session(), report, resolved, ALL, 1, 500)["items"]


def _consumer_in(session: Any, dc: str, ivrs: str) -> tuple[int, str]:
    from service.masterdata.models import Consumer

    org = session.execute(text("SELECT id FROM org_units WHERE code = :c"), {"c": dc}).scalar_one()
    consumer = Consumer(
        ivrs_number=ivrs, name=ivrs, tariff_category="LV1", sanctioned_load=2, org_unit_id=org
    )
    session.add(consumer)
    session.flush()
    return int(consumer.id), dc


@pytest.fixture
def cases(session: Any, discom: Any) -> dict[str, tuple[int, str]]:
    """A, B (BPLC-D1), C (BPLC-D2), D (SHR-D1) opened in October; E (BPLC-D1) in September."""
    who = {
        "A": _consumer_in(session, "BPLC-D1-S1-DC1", "RA"), "B": _consumer_in(session, "BPLC-D1-S2-DC1", "RB"),
        "C": _consumer_in(session, "BPLC-D2-S1-DC1", "RC"), "D": _consumer_in(session, "SHR-D1-S1-DC2", "RD"),
        "E": _consumer_in(session, "BPLC-D1-S1-DC1", "RE"),
    }  # fmt: skip

    def find(key: str, rule: str, rule_type: str, day: date, at: datetime, source: str = "analytics") -> int:
        added = add_findings(
            session(), [Finding(rule, who[key][0], day, None, 1.0, source, {"rule_type": rule_type})], at
        )
        return added.opened[0] if added.opened else 0

    ids = {
        "A": find("A", "ATR-TAMPER-DROP", "tamper_then_drop", date(2026, 10, 5), OCT),
        "B": find("B", "ATR-TREND", "trend_break", date(2026, 10, 5), OCT),
        "C": find("C", "ATR-TREND", "trend_break", date(2026, 10, 20), datetime(2026, 10, 21, 4, tzinfo=UTC)),
        "D": find("D", "ATR-PEER", "peer_zscore", date(2026, 10, 5), OCT),
        "E": find("E", "ATR-TREND", "trend_break", date(2026, 9, 28), datetime(2026, 9, 28, 4, tzinfo=UTC)),
    }
    find(
        "A", "SM-INT-REVERSE", "reverse_energy", date(2026, 10, 6), OCT, source="vee"
    )  # evidence on A's case
    write_action(
        session(), {"case_id": ids["A"], "result": "theft_confirmed", "assessment_inr": "10000.50"}, None
    )
    write_action(session(), {"case_id": ids["B"], "result": "no_issue"}, None)
    write_action(session(), {"case_id": ids["C"], "result": "meter_faulty"}, None)
    write_escalation(session(), {"case_id": ids["C"]}, None)
    write_action(session(), {"case_id": ids["E"], "result": "theft_confirmed", "assessment_inr": 999}, None)
    session.commit()
    return who


def test_circle_and_division_wise_and_vigilance_count_the_month_s_cases_and_assessments(
    session: Any, cases: dict[str, tuple[int, str]]
) -> None:
    keys = ("org_unit", "cases", "theft_confirmed", "meter_faulty", "no_issue", "pending", "escalated")
    circles = [
        tuple(r[k] for k in keys) + (float(r["assessment_inr"]),)
        for r in run(session, "atr_circle_wise", period="2026-10")
    ]
    assert circles == [("BPLC", 3, 1, 1, 1, 1, 1, 10000.5), ("SHR", 1, 0, 0, 0, 1, 0, 0.0)]
    assert run(session, "atr_summary_vigilance", period="2026-10") == run(
        session, "atr_circle_wise", period="2026-10"
    )
    divisions = [tuple(r[k] for k in keys) for r in run(session, "atr_division_wise", period="2026-10")]
    assert divisions == [
        ("BPLC-D1", 2, 1, 0, 1, 0, 0),
        ("BPLC-D2", 1, 0, 1, 0, 1, 1),
        ("SHR-D1", 1, 0, 0, 0, 1, 0),
    ]
    september = run(session, "atr_division_wise", period="2026-09")
    assert [(r["org_unit"], r["cases"], float(r["assessment_inr"])) for r in september] == [
        ("BPLC-D1", 1, 999.0)
    ]
    daily = run(session, "atr_division_wise_daily", day="2026-10-21")  # C was opened at 09:30 IST that day
    assert [(r["org_unit"], r["cases"]) for r in daily] == [("BPLC-D2", 1)]


def test_event_and_validation_wise_count_cases_by_the_evidence_on_the_period_s_days(
    session: Any, cases: dict[str, tuple[int, str]]
) -> None:
    org = {k: v[1] for k, v in cases.items()}
    event = {(r["org_unit"], r["rule_id"], r["cases"], r["theft_confirmed"], r["no_issue"], r["pending"])
             for r in run(session, "atr_event_wise", period="2026-10")}  # fmt: skip
    assert event == {
        (org["A"], "ATR-TAMPER-DROP", 1, 1, 0, 0), (org["A"], "SM-INT-REVERSE", 1, 1, 0, 0),
        (org["B"], "ATR-TREND", 1, 0, 1, 0), (org["C"], "ATR-TREND", 1, 0, 0, 1), (org["D"], "ATR-PEER", 1, 0, 0, 1),
    }  # fmt: skip
    day5 = sorted(r["rule_id"] for r in run(session, "atr_event_wise_daily", day="2026-10-05"))
    assert day5 == ["ATR-PEER", "ATR-TAMPER-DROP", "ATR-TREND"]
    kinds: dict[tuple[str, str], int] = {}
    for r in run(session, "atr_validation_wise", period="2026-10"):
        kinds[(r["source"], r["rule_type"])] = kinds.get((r["source"], r["rule_type"]), 0) + r["cases"]
    assert kinds == {("analytics", "tamper_then_drop"): 1, ("vee", "reverse_energy"): 1,
                     ("analytics", "trend_break"): 2, ("analytics", "peer_zscore"): 1}  # fmt: skip


def test_rule_feedback_gives_each_rule_s_hit_and_confirmed_theft_rates(
    session: Any, cases: dict[str, tuple[int, str]]
) -> None:
    rows = {r["rule_id"]: r for r in run(session, "atr_rule_feedback", period="2026-10")}
    assert set(rows) == {"ATR-TAMPER-DROP", "SM-INT-REVERSE", "ATR-TREND", "ATR-PEER"}
    trend = rows["ATR-TREND"]
    assert (trend["cases"], trend["inspected"], trend["hit_rate_pct"], trend["theft_rate_pct"]) == (
        2,
        2,
        50.0,
        0.0,
    )
    assert (rows["ATR-TAMPER-DROP"]["hit_rate_pct"], rows["ATR-TAMPER-DROP"]["theft_rate_pct"]) == (
        100.0,
        100.0,
    )
    peer = rows["ATR-PEER"]
    assert (peer["cases"], peer["inspected"], peer["hit_rate_pct"]) == (1, 0, None)  # not inspected yet
    assert {r["org_unit"] for r in rows.values()} == {"MPCZ"}


def test_an_officer_sees_only_the_cases_of_his_division_in_the_report_api(
    cases: dict[str, tuple[int, str]], login: Callable[[str], Any]
) -> None:
    answer = login("ee_west").get("/api/v1/reports/atr_division_wise?period=2026-10")
    assert answer.status_code == 200, answer.get_json()
    assert [(i["org_unit"], i["cases"]) for i in answer.get_json()["items"]] == [("BPLC-D2", 1)]
    page = login("analyst").get("/reports/atr_rule_feedback?period=2026-10")
    assert page.status_code == 200 and "ATR-TREND" in page.get_data(as_text=True)
