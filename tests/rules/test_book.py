"""Hot reload: a valid change applies with a diff, an invalid one is refused and the old stays."""

from __future__ import annotations

import shutil
from pathlib import Path

from rules.book import RuleBook, touch_later
from rules.loader import RULES_DIR


def book_with_copies(tmp_path: Path) -> RuleBook:
    for path in RULES_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return RuleBook(tmp_path)


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))
    touch_later(path)


def spike_threshold(book: RuleBook) -> float:
    rules = {r.id: r for s in book.rule_sets("interval") for r in s.rules}
    return float(rules["SM-INT-SPIKE"].parameters["threshold_pct"])


def test_first_refresh_loads_every_file(tmp_path: Path) -> None:
    book = book_with_copies(tmp_path)
    changes = book.refresh()
    assert sorted(c.file for c in changes) == sorted(p.name for p in RULES_DIR.glob("*.yaml"))
    assert {c.kind for c in changes} == {"loaded"}
    assert book.refresh() == []


def test_a_valid_change_takes_effect_and_carries_a_unified_diff(tmp_path: Path) -> None:
    book = book_with_copies(tmp_path)
    book.refresh()
    edit(tmp_path / "smart-interval.yaml", "threshold_pct: 500", "threshold_pct: 400")
    [change] = book.refresh()
    assert (change.kind, change.file) == ("loaded", "smart-interval.yaml")
    assert "-    parameters: {threshold_pct: 500, min_peak_kwh: 0.1}" in change.diff
    assert "+    parameters: {threshold_pct: 400, min_peak_kwh: 0.1}" in change.diff
    assert change.diff.startswith("--- a/smart-interval.yaml\n+++ b/smart-interval.yaml\n")
    assert spike_threshold(book) == 400


def test_an_invalid_change_is_refused_once_and_the_rules_in_force_stay(tmp_path: Path) -> None:
    book = book_with_copies(tmp_path)
    book.refresh()
    edit(tmp_path / "smart-interval.yaml", "threshold_pct: 500", "threshold_pct: lots")
    [change] = book.refresh()
    assert change.kind == "refused"
    assert [str(e) for e in change.errors] == [
        "smart-interval.yaml:17: rules[1].parameters.threshold_pct: expected a number, got 'lots'"
    ]
    assert spike_threshold(book) == 500
    touch_later(tmp_path / "smart-interval.yaml")
    assert book.refresh() == []  # the same refused text is reported once


def test_a_rule_id_taken_by_another_file_is_refused(tmp_path: Path) -> None:
    book = book_with_copies(tmp_path)
    book.refresh()
    edit(tmp_path / "lt-amr-interval.yaml", "LT-INT-SPIKE", "SM-INT-SPIKE")
    [change] = book.refresh()
    assert change.kind == "refused"
    assert str(change.errors[0]).endswith("rule id 'SM-INT-SPIKE' is already defined in smart-interval.yaml")


def test_a_seeded_version_stays_in_force_when_the_file_on_disk_is_invalid(tmp_path: Path) -> None:
    good = (RULES_DIR / "scalar-monthly.yaml").read_text()
    (tmp_path / "scalar-monthly.yaml").write_text(good.replace("type: reading_status", "type: nope"))
    book = RuleBook(tmp_path)
    assert book.seed("scalar-monthly.yaml", good)
    [change] = book.refresh()
    assert change.kind == "refused"
    assert [s.name for s in book.rule_sets()] == ["scalar-monthly"]
