"""Reading rule files: YAML kept with line numbers, checked against the JSON Schema and the rule
types' parameter declarations. Every problem is reported as `file:line: reason`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import numpy.typing as npt
import yaml

import rules.checks  # noqa: F401  (registers every rule type)
from rules.frames import MeterTable
from rules.registry import RULE_TYPES

SCHEMA_PATH = Path(__file__).resolve().parent / "schema.json"
RULES_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class RuleFileError:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class Scope:
    meter_class: tuple[str, ...] = ()
    tariff_category: tuple[str, ...] = ()
    feeder_type: tuple[str, ...] = ()

    def meter_mask(self, meters: MeterTable) -> npt.NDArray[np.bool_]:
        mask = np.ones(len(meters), dtype=bool)
        for name in ("meter_class", "tariff_category", "feeder_type"):
            wanted = getattr(self, name)
            if wanted:
                mask &= np.isin(getattr(meters, name), np.asarray(wanted, dtype=object))
        return mask

    def as_dict(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in vars(self).items() if v}


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    type: str
    severity: str
    action: str
    parameters: dict[str, Any]
    scope: Scope
    description: str = ""
    enabled: bool = True
    line: int = 0


@dataclass(frozen=True)
class RuleSet:
    name: str
    file: str
    data_kind: str
    meter_classes: tuple[str, ...]
    rules: tuple[Rule, ...]
    description: str = ""

    def meter_mask(self, meters: MeterTable) -> npt.NDArray[np.bool_]:
        return np.isin(meters.meter_class, np.asarray(self.meter_classes, dtype=object))


@dataclass
class LoadResult:
    rule_set: RuleSet | None
    errors: list[RuleFileError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and self.rule_set is not None


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft202012Validator(schema)


@cache
def schema_validator(path: Path) -> jsonschema.protocols.Validator:
    """The JSON-schema validator of a rule-file schema (correlation, revenue analytics)."""
    return jsonschema.Draft202012Validator(json.loads(path.read_text()))


def _line_of(node: yaml.Node, path: Iterable[Any]) -> int:
    """1-based line of the node at `path` (the deepest node that exists)."""
    for step in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            child = node.value[step]
        if child is None:
            break
        node = child
    return node.start_mark.line + 1


def _where(path: Sequence[Any]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "(file)"


# (parameter name, its entry in the type's spec, the value given) -> what is wrong, or None
ParameterCheck = Callable[[str, Any, Any], str | None]
# (the rule as written, its path in the file) -> problems beyond its parameters one by one
RuleCheck = Callable[[dict[str, Any], list[Any]], list[RuleFileError]]


def check_rule_list(
    root: yaml.Node,
    file: str,
    rules: Sequence[dict[str, Any]],
    specs: Mapping[str, Mapping[str, Any]],
    check: ParameterCheck,
    extra: RuleCheck | None = None,
) -> list[RuleFileError]:
    """What every analyst rule list of `id`, `type` and `parameters` shares (correlation, revenue
    analytics): unique ids, exactly the parameters the rule's type names, each one `check`ed."""
    errors: list[RuleFileError] = []
    seen: set[str] = set()
    for i, raw in enumerate(rules):
        path: list[Any] = ["rules", i]
        here = _where(path)
        if raw["id"] in seen:
            errors.append(
                RuleFileError(
                    file, _line_of(root, [*path, "id"]), f"{here}.id: duplicate rule id {raw['id']!r}"
                )
            )
        seen.add(raw["id"])
        spec, given = specs[raw["type"]], raw["parameters"]
        for name in sorted(set(given) - set(spec)):
            errors.append(
                RuleFileError(
                    file,
                    _line_of(root, [*path, "parameters", name]),
                    f"{here}.parameters.{name}: unknown parameter (allowed: {', '.join(spec)})",
                )
            )
        for name, entry in spec.items():
            at = _line_of(root, [*path, "parameters", name])
            if name not in given:
                errors.append(RuleFileError(file, at, f"{here}.parameters: missing parameter {name!r}"))
                continue
            problem = check(name, entry, given[name])
            if problem:
                errors.append(RuleFileError(file, at, f"{here}.parameters.{name}: {problem}"))
        if extra is not None:
            errors.extend(extra(raw, path))
    return errors


def parse_checked(
    text: str, file: str, validator: jsonschema.protocols.Validator
) -> tuple[Any, Any, list[RuleFileError]]:
    """A rule file's YAML node tree and data, with every syntax or schema problem as `file:line`.

    Shared by the VEE rule files and the correlation rule files; errors come sorted by line.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        return None, None, [RuleFileError(file, line, f"YAML syntax: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return None, None, [RuleFileError(file, 1, f"YAML syntax: {exc}")]
    if root is None:
        return None, None, [RuleFileError(file, 1, "the file is empty")]
    errors = [
        RuleFileError(
            file, _line_of(root, err.absolute_path), f"{_where(list(err.absolute_path))}: {err.message}"
        )
        for err in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    ]
    return root, data, sorted(errors, key=lambda e: e.line)


def load_text(text: str, file: str) -> LoadResult:
    """Parse and validate one rule file's text; `file` names it in messages."""
    root, data, errors = parse_checked(text, file, _validator())
    if errors:
        return LoadResult(None, errors)
    rules_out: list[Rule] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(data["rules"]):
        path: list[Any] = ["rules", i]
        line = _line_of(root, path)
        errors += _rule_problems(root, path, raw, data["data_kind"], file)
        if raw["id"] in seen:
            errors.append(
                RuleFileError(
                    file,
                    _line_of(root, [*path, "id"]),
                    f"rules[{i}].id: duplicate rule id {raw['id']!r} (first at line {seen[raw['id']]})",
                )
            )
        seen.setdefault(raw["id"], line)
        if not errors:
            rules_out.append(_rule(raw, line))
    if errors:
        return LoadResult(None, errors)
    rule_set = RuleSet(
        name=data["rule_set"],
        file=file,
        data_kind=data["data_kind"],
        meter_classes=tuple(data["meter_classes"]),
        rules=tuple(rules_out),
        description=data.get("description", ""),
    )
    return LoadResult(rule_set)


def _rule_problems(
    root: yaml.Node, path: list[Any], raw: dict[str, Any], kind: str, file: str
) -> list[RuleFileError]:
    here = _where(path)
    type_name = raw["type"]
    rule_type = RULE_TYPES.get(type_name)
    if rule_type is None:
        known = ", ".join(sorted(RULE_TYPES))
        return [
            RuleFileError(
                file,
                _line_of(root, [*path, "type"]),
                f"{here}.type: unknown rule type {type_name!r} (known: {known})",
            )
        ]
    problems = []
    if kind not in rule_type.kinds:
        problems.append(
            RuleFileError(
                file,
                _line_of(root, [*path, "type"]),
                f"{here}.type: rule type {type_name!r} does not apply to data kind {kind!r} (only {', '.join(rule_type.kinds)})",
            )
        )
    given = raw.get("parameters", {})
    for name, value in given.items():
        spec = rule_type.params.get(name)
        at = _line_of(root, [*path, "parameters", name])
        if spec is None:
            allowed = ", ".join(rule_type.params) or "none"
            problems.append(
                RuleFileError(
                    file,
                    at,
                    f"{here}.parameters.{name}: unknown parameter of {type_name!r} (allowed: {allowed})",
                )
            )
            continue
        problem = spec.problem(value)
        if problem:
            problems.append(RuleFileError(file, at, f"{here}.parameters.{name}: {problem}"))
    for name, spec in rule_type.params.items():
        if spec.required and name not in given:
            problems.append(
                RuleFileError(
                    file,
                    _line_of(root, path),
                    f"{here}.parameters: missing parameter {name!r} of {type_name!r}",
                )
            )
    return problems


def _rule(raw: dict[str, Any], line: int) -> Rule:
    scope = raw.get("scope", {})
    params = {name: spec.default for name, spec in RULE_TYPES[raw["type"]].params.items()}
    params.update(raw.get("parameters", {}))
    return Rule(
        id=raw["id"],
        name=raw["name"],
        type=raw["type"],
        severity=raw["severity"],
        action=raw["action"],
        parameters=params,
        scope=Scope(
            meter_class=tuple(scope.get("meter_class", ())),
            tariff_category=tuple(scope.get("tariff_category", ())),
            feeder_type=tuple(scope.get("feeder_type", ())),
        ),
        description=raw.get("description", ""),
        enabled=raw.get("enabled", True),
        line=line,
    )


def load_file(path: Path, label: str | None = None) -> LoadResult:
    return load_text(path.read_text(encoding="utf-8"), label or path.name)


def check_directory(
    directory: Path = RULES_DIR, label_prefix: str = ""
) -> tuple[list[RuleSet], list[RuleFileError]]:
    """Validate every *.yaml in a directory, including rule ids repeated across files."""
    sets: list[RuleSet] = []
    errors: list[RuleFileError] = []
    owner: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        result = load_file(path, f"{label_prefix}{path.name}")
        errors += result.errors
        if result.rule_set is None:
            continue
        clashes = [r for r in result.rule_set.rules if r.id in owner]
        for rule in clashes:
            errors.append(
                RuleFileError(
                    result.rule_set.file,
                    rule.line,
                    f"rule id {rule.id!r} is already defined in {owner[rule.id]}",
                )
            )
        if not clashes:
            owner.update({r.id: result.rule_set.file for r in result.rule_set.rules})
            sets.append(result.rule_set)
    return sets, errors
