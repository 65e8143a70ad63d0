"""Rule files in the running service: hot reload with audit diff, refusal keeps the old rules,
`flask rules check`, and rule insight (API and page) scoped by org unit."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import text

from rules.book import touch_later
from rules.loader import RULES_DIR
from service.vee import rulebook
from tests.vee.conftest import intervals_batch, profile


def copy_rules(tmp_path: Path) -> Path:
    for path in RULES_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))
    touch_later(path)


def spike_threshold(session: Any) -> float:
    rules = {r.id: r for s in rulebook.rule_sets(session, "interval") for r in s.rules}
    return float(rules["SM-INT-SPIKE"].parameters["threshold_pct"])


def audit(session: Any, action: str) -> list[Any]:
    return session.execute(
        text("SELECT entity_key, before, after FROM audit_log WHERE action = :a ORDER BY id"), {"a": action}
    ).all()


def test_a_valid_change_takes_effect_without_restart_and_is_audited_with_its_diff(
    app: Flask, session: Any, tmp_path: Path
) -> None:
    rules_dir = copy_rules(tmp_path)
    rulebook.use_directory(app, rules_dir, reload_seconds=0)
    assert spike_threshold(session) == 500
    session.commit()
    assert len(audit(session, "rules.loaded")) == 5
    edit(rules_dir / "smart-interval.yaml", "threshold_pct: 500", "threshold_pct: 350")
    assert spike_threshold(session) == 350
    session.commit()
    key, before, after = audit(session, "rules.loaded")[-1]
    assert key == "smart-interval.yaml"
    assert before["sha256"] != after["sha256"]
    assert after["diff"].startswith("--- a/smart-interval.yaml\n+++ b/smart-interval.yaml\n")
    assert "-    parameters: {threshold_pct: 500, min_peak_kwh: 0.1}\n" in after["diff"]
    assert "+    parameters: {threshold_pct: 350, min_peak_kwh: 0.1}\n" in after["diff"]


def test_an_invalid_change_is_refused_audited_and_the_rules_in_force_stay(
    app: Flask, session: Any, tmp_path: Path
) -> None:
    rules_dir = copy_rules(tmp_path)
    rulebook.use_directory(app, rules_dir, reload_seconds=0)
    spike_threshold(session)
    session.commit()
    edit(rules_dir / "smart-interval.yaml", "type: spike", "type: spikes")
    assert spike_threshold(session) == 500
    session.commit()
    [(key, _, after)] = audit(session, "rules.refused")
    assert key == "smart-interval.yaml"
    assert after["errors"][0].startswith("smart-interval.yaml:16: rules[1].type: unknown rule type 'spikes'")
    # A process started now (fresh rule book) takes the version in force from the database.
    rulebook.use_directory(app, rules_dir, reload_seconds=0)
    assert spike_threshold(session) == 500
    session.commit()
    assert len(audit(session, "rules.refused")) == 1  # refused once, not once per process


def test_flask_rules_check_prints_file_line_reason_and_exits_1(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    good = runner.invoke(args=["rules", "check"])
    assert good.exit_code == 0 and "5 rule files" in good.output
    rules_dir = copy_rules(tmp_path)
    edit(rules_dir / "register.yaml", "factor: 1.3", "factor: big")
    edit(rules_dir / "scalar-monthly.yaml", "severity: warn", "severity: loud")
    bad = runner.invoke(args=["rules", "check", "--dir", str(rules_dir)])
    assert bad.exit_code == 1
    assert bad.output.splitlines() == [
        "register.yaml:21: rules[2].parameters.factor: expected a number, got 'big'",
        "scalar-monthly.yaml:17: rules[1].severity: 'loud' is not one of ['warn', 'fail']",
        "scalar-monthly.yaml:25: rules[2].severity: 'loud' is not one of ['warn', 'fail']",
    ]


def test_rule_insight_counts_hits_per_day_and_org_unit_within_the_users_area(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any, login: Any, client: Any
) -> None:
    ingest(intervals_batch("VM1", profile({30: 1.5})))
    run_jobs("vee")
    east = login("ee_east")
    rows = {r["id"]: r for r in east.get("/api/v1/vee/rules?days=366").get_json()["rules"]}
    assert len(rows) == 55
    spike = rows["SM-INT-SPIKE"]
    assert (spike["hits"], spike["hits_per_day"], spike["hits_per_org_unit"]) == (
        1,
        {"2026-10-05": 1},
        {"BPLC-D1": 1},
    )
    assert rows["SM-INT-GAP"]["hits"] == 0
    failures = east.get("/api/v1/vee/rules/SM-INT-SPIKE/failures").get_json()["failures"]
    assert [(f["meter"], f["value_seen"]) for f in failures] == [("VM1", 1.5)]
    page = east.get("/vee/rules?days=366").get_data(as_text=True)
    assert "SM-INT-SPIKE" in page and "BPLC-D1: 1" in page
    client.post("/logout", data={})
    west = login("ee_west")
    rows = {r["id"]: r for r in west.get("/api/v1/vee/rules?days=366").get_json()["rules"]}
    assert rows["SM-INT-SPIKE"]["hits"] == 0
    assert west.get("/api/v1/vee/rules/SM-INT-SPIKE/failures").get_json()["failures"] == []
    assert west.get("/api/v1/vee/rules?days=0").status_code == 422


def test_reading_the_rules_writes_nothing_and_a_post_picks_up_a_changed_file(
    app: Flask, session: Any, tmp_path: Path, network: dict[str, int], login: Any
) -> None:
    rules_dir = copy_rules(tmp_path)
    rulebook.use_directory(app, rules_dir, reload_seconds=0)
    rulebook.rule_sets(session)  # what the reload job does: the files are recorded
    session.commit()
    recorded = session.execute(text("SELECT file, sha256 FROM vee_rule_files ORDER BY file")).all()
    audited = session.execute(text("SELECT count(*) FROM audit_log WHERE entity = 'rule_file'")).scalar_one()
    edit(rules_dir / "smart-interval.yaml", "threshold_pct: 500", "threshold_pct: 350")

    analyst = login("analyst")
    rows = {r["id"]: r for r in analyst.get("/api/v1/vee/rules").get_json()["rules"]}
    assert rows["SM-INT-SPIKE"]["parameters"]["threshold_pct"] == 500  # the version in force
    page = analyst.get("/vee/rules")
    assert page.status_code == 200
    session.rollback()
    assert (
        session.execute(text("SELECT count(*) FROM audit_log WHERE entity = 'rule_file'")).scalar_one()
        == audited
    )
    assert session.execute(text("SELECT file, sha256 FROM vee_rule_files ORDER BY file")).all() == recorded

    reloaded = analyst.post("/api/v1/vee/rules/reload")
    assert reloaded.status_code == 200, reloaded.get_json()
    assert reloaded.get_json()["changes"] == [{"kind": "loaded", "file": "smart-interval.yaml"}]
    rows = {r["id"]: r for r in analyst.get("/api/v1/vee/rules").get_json()["rules"]}
    assert rows["SM-INT-SPIKE"]["parameters"]["threshold_pct"] == 350
    session.rollback()
    assert [key for key, _, _ in audit(session, "rules.loaded")][-1] == "smart-interval.yaml"
    assert analyst.post("/api/v1/vee/rules/reload").get_json()["changes"] == []
