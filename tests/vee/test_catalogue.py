"""docs/rule-authoring.md's table of the VEE catalogue against the rule files."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
# The catalogue of checks public MDM rule sets share (our domain reference, section 6).
CATALOGUE = [
    "gap / missing",
    "spike",
    "zero run",
    "static",
    "high / low",
    "sum check",
    "negative / decreasing register",
    "reverse energy",
    "multiplier",
    "time",
    "MD vs load",
    "electrical sanity",
    "prolonged estimation",
]


def rule_sets(rules_dir: Path) -> dict[str, set[str]]:
    sets = {}
    for path in sorted(rules_dir.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        sets[spec["rule_set"]] = {rule["id"] for rule in spec["rules"]}
    return sets


def catalogue_table(doc: str) -> tuple[list[str], dict[str, list[str]]]:
    section = doc.split("## The VEE catalogue and our rules", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return header[1:], rows


def problems(doc: str, sets: dict[str, set[str]]) -> list[str]:
    columns, rows = catalogue_table(doc)
    found = []
    if sorted(columns) != sorted(sets):
        found.append(f"columns {columns} are not the rule sets {sorted(sets)}")
    for entry in [*CATALOGUE, "beyond the catalogue"]:
        if entry not in rows:
            found.append(f"no row for {entry!r}")
    named: dict[str, set[str]] = {name: set() for name in sets}
    for entry, cells in rows.items():
        for column, cell in zip(columns, cells, strict=True):
            ids = set(re.findall(r"`([A-Z][A-Z0-9-]+)`", cell.split("n/a:")[0]))
            unknown = ids - sets.get(column, set())
            if unknown:
                found.append(f"{entry} / {column}: {sorted(unknown)} not in that rule set")
            if not ids and not re.search(r"(n/a|missing)(: \S.*)?$", cell):
                found.append(f"{entry} / {column}: neither rules nor n/a / missing with a reason")
            if (
                ("missing" in cell and not re.search(r"missing: \S", cell))
                or cell.startswith("n/a:")
                and len(cell) < 10
            ):
                found.append(f"{entry} / {column}: say why")
            named[column] |= ids
    for name, ids in sets.items():
        if ids - named.get(name, set()):
            found.append(f"{name}: rules not in the table {sorted(ids - named.get(name, set()))}")
    return found


def test_every_rule_set_is_checked_against_the_catalogue() -> None:
    doc = (ROOT / "docs" / "rule-authoring.md").read_text()
    assert problems(doc, rule_sets(ROOT / "rules")) == []


def test_the_check_finds_a_rule_left_out_and_a_cell_without_reason() -> None:
    doc = (ROOT / "docs" / "rule-authoring.md").read_text()
    sets = rule_sets(ROOT / "rules")
    sets["register"] = sets["register"] | {"REG-NEW"}
    broken = doc.replace("| n/a: scalar meters register import only |", "| |")
    assert problems(broken, sets) == [
        "reverse energy / scalar-monthly: neither rules nor n/a / missing with a reason",
        "register: rules not in the table ['REG-NEW']",
    ]
