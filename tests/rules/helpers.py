"""Crafted frames for the pure rule tests: a clean day per meter, then one defect at a time."""

from __future__ import annotations

from typing import Any

import numpy as np

from rules.engine import Evaluation, evaluate
from rules.frames import Frame, MeterTable
from rules.loader import Rule, RuleSet, Scope
from rules.registry import RULE_TYPES, with_defaults

DAY0 = 1_764_268_200  # 2025-11-28 00:00 IST in epoch seconds (18:30 UTC the day before)
STEP = 900
NOW = DAY0 + 10 * 86_400


def day_profile(meters: int, days: int = 1, base: float = 0.25) -> Frame:
    """96 intervals a day per meter with a gentle daily shape and no defects."""
    per_meter = 96 * days
    meter = np.repeat(np.arange(meters), per_meter)
    ts = np.tile(DAY0 + STEP * np.arange(1, per_meter + 1), meters)
    shape = base + 0.05 * np.sin(np.arange(per_meter) / 96 * 2 * np.pi) + 0.001 * (np.arange(per_meter) % 7)
    kwh = np.tile(shape, meters)
    return Frame("interval", meter, ts, {"kwh": kwh, "kvah": kwh * 1.1})


def rule(type_name: str, severity: str = "fail", action: str = "flag", **params: Any) -> Rule:
    return Rule(
        id=f"T-{type_name.upper()}",
        name=type_name,
        type=type_name,
        severity=severity,
        action=action,
        parameters=with_defaults(type_name, params),
        scope=Scope(),
    )


def run(
    frame: Frame, meters: MeterTable, *rules: Rule, classes: tuple[str, ...] = ("smart_1ph",), now: int = NOW
) -> Evaluation:
    rule_set = RuleSet("t", "t.yaml", frame.kind, classes, tuple(rules))
    return evaluate([rule_set], frame, meters, now)


def flagged_rows(frame: Frame, evaluation: Evaluation) -> list[tuple[int, int]]:
    """(meter, interval number from the day start) of every row that is not valid."""
    rows = np.flatnonzero(evaluation.quality != 1)
    return [(int(frame.meter[i]), int((frame.ts[i] - DAY0) // STEP)) for i in rows]


def check(type_name: str, frame: Frame, meters: MeterTable, **params: Any) -> Any:
    return RULE_TYPES[type_name].check(frame, meters, with_defaults(type_name, params), NOW)
