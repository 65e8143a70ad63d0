"""The analytics over generated data in the real aggregate tables: each planted theft pattern
opens a case on the right consumer with the rule that should see it, and a clean population of
10,000 consumers opens fewer than 1 % false cases. The rule file is validated like the VEE files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from rules.revenue import ANALYTICS_FILE, load_file, load_text
from service.revenue.analytics import analyse
from tests.revenue import population as gen

MONTH_FIRST, MONTH_LAST = date(2026, 10, 1), date(2026, 10, 30)
SINCE = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)

# pattern -> the rule that must be among its case's evidence
EXPECTED_RULE = {
    "bypass_after_cover_open": "ATR-TAMPER-DROP",
    "dt_diversion": "ATR-DT-DIVERSION",
    "shape_to_neighbours_fraction": "ATR-SHAPE",
    "persistent_magnet": "ATR-TAMPER",
    "zero_while_neighbours_consume": "ATR-ZERO-NEIGHBOURS",
}


def _org(session: Any, code: str) -> int:
    return int(session.execute(text("SELECT id FROM org_units WHERE code = :c"), {"c": code}).scalar_one())


def _case_rules(session: Any) -> dict[int, set[str]]:
    rows = session.execute(
        text("SELECT c.consumer_id, e.rule_id FROM atr_cases c JOIN atr_evidence e ON e.case_id = c.id")
    )
    out: dict[int, set[str]] = {}
    for consumer, rule in rows:
        out.setdefault(int(consumer), set()).add(rule)
    return out


def test_planted_patterns_open_cases_on_the_right_consumers_and_the_clean_ten_thousand_stay_under_one_percent(
    session: Any, discom: Any
) -> None:
    g = gen.generate(10_000, seed=3)
    month = g.month_from
    gen.plant_bypass_after_cover_open(g, 5, month + 6)
    gen.plant_dt_diversion(g, 7)
    gen.plant_shape_to_neighbours_fraction(g, int(np.flatnonzero(g.dt == 11)[1]))
    gen.plant_persistent_magnet(g, 40, month + 3)
    gen.plant_zero_while_neighbours_consume(g, 77)
    stored = gen.store(session(), g, MONTH_FIRST, _org(session, "BPLC-D1-S1-DC1"), SINCE)
    session.commit()
    run = analyse(session(), MONTH_FIRST, MONTH_LAST, NOW)
    session.commit()
    assert run.consumers == 10_000 + discom.consumers  # the demo discom's 40 as well
    rules = _case_rules(session)
    for pattern, index in g.planted.items():
        consumer = int(stored.consumer_ids[index])
        assert EXPECTED_RULE[pattern] in rules.get(consumer, set()), (pattern, rules.get(consumer))
    planted = {int(stored.consumer_ids[i]) for i in g.planted.values()}
    false_cases = set(rules) - planted
    assert len(rules) == len(run.added.opened)
    assert len(false_cases) < 100, sorted((c, sorted(r)) for c, r in rules.items() if c in false_cases)
    # Every new case is a work item for the field officer of the consumers' DC.
    items = session.execute(
        text("SELECT count(*) FROM work_items WHERE process_id = 'atr_case' AND status = 'open'"
             " AND org_unit_id = :o"), {"o": _org(session, "BPLC-D1-S1-DC1")},
    ).scalar_one()  # fmt: skip
    assert items == len(rules)
    # The same month again adds nothing: evidence is unique per case, rule and day.
    again = analyse(session(), MONTH_FIRST, MONTH_LAST, NOW)
    assert (again.added.opened, again.added.evidence) == ([], 0)


def test_the_shipped_analytics_file_validates() -> None:
    loaded = load_file(ANALYTICS_FILE)
    assert loaded.ok, loaded.errors
    assert loaded.analytics_set is not None
    assert {r.type for r in loaded.analytics_set.rules} == {
        "tamper_persistence", "tamper_then_drop", "trend_break", "zero_with_neighbours", "peer_zscore",
        "dt_diversion", "shape_cluster_shift",
    }  # fmt: skip


BROKEN = """analytics_set: atr
window: {history_days: 28}
cases: {escalate_after: P7D}
rules:
  - id: ATR-A
    name: a
    type: trend_break
    parameters: {drop_pct: 160, min_low_days_pct: 70}
  - id: ATR-A
    name: b
    type: peer_zscore
    parameters: {z_below: 4, min_group: 20, load_bands_kw: [5, 2], colour: red}
  - id: ATR-C
    name: c
    type: tamper_persistence
    parameters: {codes: [201, 1200], min_hours: "a day", min_events: 2}
"""


@pytest.mark.parametrize(
    "expected",
    [
        "rules.yaml:8: rules[0].parameters.drop_pct: must be at most 100",
        "rules.yaml:8: rules[0].parameters: missing parameter 'min_history_kwh_per_day'",
        "rules.yaml:9: rules[1].id: duplicate rule id 'ATR-A'",
        "rules.yaml:12: rules[1].parameters.colour: unknown parameter (allowed: z_below, min_group, load_bands_kw)",
        "rules.yaml:12: rules[1].parameters.load_bands_kw: load bands are increasing positive kW limits",
        "rules.yaml:16: rules[2].parameters.codes: event codes are IS 15959 codes 1-999, not 1200",
        "rules.yaml:16: rules[2].parameters.min_hours: must be a number, got 'a day'",
    ],
)
def test_a_broken_analytics_file_is_refused_with_file_line_and_reason(expected: str) -> None:
    loaded = load_text(BROKEN, "rules.yaml")
    assert not loaded.ok and loaded.analytics_set is None
    assert expected in [str(e) for e in loaded.errors]


def test_yaml_and_schema_errors_name_their_line() -> None:
    assert [str(e) for e in load_text("rules: [\n", "x.yaml").errors][0].startswith("x.yaml:2: YAML syntax")
    missing = load_text("analytics_set: atr\nrules: []\n", "x.yaml")
    assert any("'window' is a required property" in str(e) for e in missing.errors)


def test_the_daily_job_runs_on_a_real_worker_and_opens_the_planted_case(
    session: Any, discom: Any, run_jobs: Any
) -> None:
    from service.queues import get_queue
    from service.revenue.jobs import daily_analytics

    g = gen.generate(600, seed=5)
    gen.plant_bypass_after_cover_open(g, 9, g.month_from + 10)
    stored = gen.store(session(), g, MONTH_FIRST, _org(session, "BPLC-D1-S1-DC1"), SINCE)
    session.commit()
    job = get_queue("bulk").enqueue(daily_analytics, "2026-10-30")
    assert run_jobs("bulk") == 1
    result = job.latest_result()
    assert result is not None and result.return_value["from"] == "2026-10-01"
    assert "ATR-TAMPER-DROP" in _case_rules(session)[int(stored.consumer_ids[9])]
