"""Rule files: the shipped ones validate; every kind of mistake is reported as file:line: reason."""

from __future__ import annotations

from pathlib import Path

from rules.loader import RULES_DIR, check_directory, load_text

GOOD = """\
rule_set: test-set
data_kind: interval
meter_classes: [smart_1ph]
rules:
  - id: T-GAP
    name: Missing intervals
    type: gap
    parameters: {max_missing: 0}
    severity: fail
    action: estimate
  - id: T-SPIKE
    name: Spike
    type: spike
    parameters:
      threshold_pct: 500
    severity: warn
    action: flag
"""


def messages(text: str) -> list[str]:
    return [str(e) for e in load_text(text, "t.yaml").errors]


def test_every_shipped_rule_file_validates() -> None:
    sets, errors = check_directory(RULES_DIR)
    assert errors == []
    assert {s.name for s in sets} == {
        "smart-interval",
        "lt-amr-interval",
        "ht-amr-interval",
        "register",
        "scalar-monthly",
    }


def test_a_good_file_loads_with_defaults_filled_in() -> None:
    result = load_text(GOOD, "t.yaml")
    assert result.ok
    spike = result.rule_set.rules[1]  # type: ignore[union-attr]
    assert spike.parameters == {"threshold_pct": 500, "min_peak_kwh": 0.1, "channel": "kwh"}
    assert spike.line == 11


def test_a_value_of_the_wrong_type_is_reported_with_its_line() -> None:
    text = GOOD.replace("severity: warn", "severity: 3")
    assert messages(text) == ["t.yaml:16: rules[1].severity: 3 is not one of ['warn', 'fail']"]


def test_parameters_given_as_a_list_are_a_type_error() -> None:
    text = GOOD.replace("parameters: {max_missing: 0}", "parameters: [max_missing]")
    assert messages(text) == ["t.yaml:8: rules[0].parameters: ['max_missing'] is not of type 'object'"]


def test_an_unknown_rule_type_is_named_with_its_line() -> None:
    errors = messages(GOOD.replace("type: spike", "type: spikey"))
    assert len(errors) == 1
    assert errors[0].startswith("t.yaml:13: rules[1].type: unknown rule type 'spikey' (known: clock_drift, ")


def test_a_parameter_of_the_wrong_type_is_reported() -> None:
    text = GOOD.replace("threshold_pct: 500", "threshold_pct: high")
    assert messages(text) == ["t.yaml:15: rules[1].parameters.threshold_pct: expected a number, got 'high'"]


def test_a_parameter_out_of_range_is_reported() -> None:
    text = GOOD.replace("threshold_pct: 500", "threshold_pct: 50")
    assert messages(text) == ["t.yaml:15: rules[1].parameters.threshold_pct: must be >= 100, got 50"]


def test_an_integer_parameter_refuses_a_fraction_and_a_boolean() -> None:
    assert messages(GOOD.replace("max_missing: 0", "max_missing: 1.5")) == [
        "t.yaml:8: rules[0].parameters.max_missing: expected an integer, got 1.5"
    ]
    assert messages(GOOD.replace("max_missing: 0", "max_missing: true")) == [
        "t.yaml:8: rules[0].parameters.max_missing: expected an integer, got True"
    ]


def test_an_unknown_parameter_is_reported_with_the_allowed_ones() -> None:
    assert messages(GOOD.replace("threshold_pct: 500", "treshold_pct: 500")) == [
        "t.yaml:15: rules[1].parameters.treshold_pct: unknown parameter of 'spike'"
        " (allowed: threshold_pct, min_peak_kwh, channel)"
    ]


def test_a_missing_required_field_points_at_the_rule() -> None:
    assert messages(GOOD.replace("    action: flag\n", "")) == [
        "t.yaml:11: rules[1]: 'action' is a required property"
    ]


def test_a_rule_type_of_another_data_kind_is_refused() -> None:
    text = GOOD.replace("type: spike", "type: reading_status").replace(
        "      threshold_pct: 500\n", "      {}\n"
    )
    text = text.replace("    parameters:\n      {}\n", "")
    assert messages(text) == [
        "t.yaml:13: rules[1].type: rule type 'reading_status' does not apply to data kind 'interval'"
        " (only monthly_scalar)"
    ]


def test_duplicate_rule_ids_are_refused() -> None:
    assert messages(GOOD.replace("id: T-SPIKE", "id: T-GAP")) == [
        "t.yaml:11: rules[1].id: duplicate rule id 'T-GAP' (first at line 5)"
    ]


def test_yaml_syntax_errors_carry_the_line() -> None:
    errors = messages(GOOD.replace("    name: Spike\n", "    name: [Spike\n"))
    assert len(errors) == 1
    assert errors[0].startswith("t.yaml:13: YAML syntax:")


def test_the_same_rule_id_in_two_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD.replace("test-set", "other-set"))
    sets, errors = check_directory(tmp_path)
    assert [s.file for s in sets] == ["a.yaml"]
    assert [str(e) for e in errors] == [
        "b.yaml:5: rule id 'T-GAP' is already defined in a.yaml",
        "b.yaml:11: rule id 'T-SPIKE' is already defined in a.yaml",
    ]


def test_the_authoring_guide_documents_every_rule_type_and_rule_file() -> None:
    from rules.registry import RULE_TYPES

    guide = (RULES_DIR.parent / "docs" / "rule-authoring.md").read_text()
    assert [t for t in RULE_TYPES if f"### `{t}`" not in guide] == []
    assert [p.name for p in RULES_DIR.glob("*.yaml") if f"`rules/{p.name}`" not in guide] == []
