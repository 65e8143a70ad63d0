"""Revenue-protection analytics: the rule file (`rules/revenue/analytics.yaml`, schema
`schema.json`), validated like the VEE files (`file:line: reason`), and the rule types
(`rules.revenue.detectors`) that turn a month of daily aggregates into suspicions.

Plain values in, plain values out: the service reads the aggregates and opens the cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rules.loader import RuleFileError, _line_of, check_rule_list, parse_checked, schema_validator

REVENUE_DIR = Path(__file__).resolve().parent
SCHEMA_PATH = REVENUE_DIR / "schema.json"
ANALYTICS_FILE = REVENUE_DIR / "analytics.yaml"

# type -> parameter -> (kind, minimum, maximum); every parameter is required.
Spec = tuple[str, float | None, float | None]
RULE_PARAMS: dict[str, dict[str, Spec]] = {
    "tamper_persistence": {"codes": ("codes", None, None), "min_hours": ("number", 0, None),
                           "min_events": ("integer", 1, None)},
    "tamper_then_drop": {"codes": ("codes", None, None), "drop_pct": ("number", 1, 100),
                         "min_days_after": ("integer", 1, 31), "before_days": ("integer", 3, 366),
                         "min_before_kwh_per_day": ("number", 0, None)},
    "trend_break": {"drop_pct": ("number", 1, 100), "min_low_days_pct": ("number", 1, 100),
                    "min_history_kwh_per_day": ("number", 0, None)},
    "zero_with_neighbours": {"zero_kwh": ("number", 0, None), "min_zero_days": ("integer", 1, 31),
                             "min_neighbours": ("integer", 1, None),
                             "min_neighbour_kwh_per_day": ("number", 0, None)},
    "peer_zscore": {"z_below": ("number", 1, None), "min_group": ("integer", 5, None),
                    "load_bands_kw": ("bands", None, None)},
    "dt_diversion": {"min_loss_pct": ("number", 1, 100), "min_input_kwh": ("number", 0, None),
                     "max_consumers": ("integer", 1, 100), "min_suspicion": ("number", 0, 1)},
    "shape_cluster_shift": {"clusters": ("integer", 2, 50), "min_kwh_per_day": ("number", 0, None),
                            "min_shift": ("number", 0, 2), "seed": ("integer", 0, None)},
}  # fmt: skip


@dataclass(frozen=True)
class AnalyticsRule:
    id: str
    name: str
    type: str
    parameters: dict[str, Any]
    enabled: bool = True
    line: int = 0


@dataclass(frozen=True)
class AnalyticsSet:
    name: str
    file: str
    history_days: int
    escalate_after: str
    rules: tuple[AnalyticsRule, ...]


@dataclass
class AnalyticsLoad:
    analytics_set: AnalyticsSet | None
    errors: list[RuleFileError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and self.analytics_set is not None


def _param_problem(name: str, spec: tuple[str, float | None, float | None], value: Any) -> str | None:
    kind, low, high = spec
    if kind in ("number", "integer"):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (kind == "integer" and not isinstance(value, int))
        ):
            return f"must be {'an integer' if kind == 'integer' else 'a number'}, got {value!r}"
        if low is not None and value < low:
            return f"must be at least {low:g}"
        if high is not None and value > high:
            return f"must be at most {high:g}"
        return None
    if not isinstance(value, list) or not value:
        return f"must be a non-empty list, got {value!r}"
    if kind == "codes":
        bad = [c for c in value if isinstance(c, bool) or not isinstance(c, int) or not 1 <= c <= 999]
        return f"event codes are IS 15959 codes 1-999, not {bad[0]!r}" if bad else None
    numbers = [v for v in value if isinstance(v, int | float) and not isinstance(v, bool) and v > 0]
    if len(numbers) != len(value) or numbers != sorted(set(numbers)):
        return "load bands are increasing positive kW limits"
    return None


def load_text(text: str, file: str) -> AnalyticsLoad:
    """Parse and validate one analytics file; every problem as `file:line: reason`."""
    root, data, errors = parse_checked(text, file, schema_validator(SCHEMA_PATH))
    if errors:
        return AnalyticsLoad(None, errors)
    errors = check_rule_list(root, file, data["rules"], RULE_PARAMS, _param_problem)
    rules_out = [
        AnalyticsRule(
            raw["id"],
            raw["name"],
            raw["type"],
            dict(raw["parameters"]),
            bool(raw.get("enabled", True)),
            _line_of(root, ["rules", i]),
        )  # fmt: skip
        for i, raw in enumerate(data["rules"])
    ]
    if errors:
        return AnalyticsLoad(None, sorted(errors, key=lambda e: e.line))
    return AnalyticsLoad(
        AnalyticsSet(
            data["analytics_set"],
            file,
            int(data["window"]["history_days"]),
            str(data["cases"]["escalate_after"]),
            tuple(rules_out),
        )  # fmt: skip
    )


def load_file(path: Path = ANALYTICS_FILE) -> AnalyticsLoad:
    return load_text(path.read_text(), path.name)
