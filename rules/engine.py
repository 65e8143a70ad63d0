"""Runs rule sets over one frame: a quality flag per reading and a record per failure.

Each rule type is vectorised over the whole frame; the engine only loops over rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from rules.frames import Q_EDITED, Q_ESTIMATED, Q_FAILED, Q_SUSPECT, Q_VALID, Frame, MeterTable
from rules.loader import Rule, RuleSet
from rules.registry import RULE_TYPES, Hits

SEVERITY_RANK = {"warn": 1, "fail": 2}


@dataclass
class Finding:
    """The failures of one rule, as columns (indices into the MeterTable, epoch seconds)."""

    rule: Rule
    hits: Hits


@dataclass
class Evaluation:
    quality: npt.NDArray[np.int8]  # per row, in the caller's row order
    findings: list[Finding]
    # Rows failed by a fail-severity rule whose action is `estimate` (to be replaced).
    replace_rows: npt.NDArray[np.bool_]
    # Gaps found by gap rules whose action is `estimate`: meter, first missing ts, count, step.
    gaps: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)

    @property
    def failure_count(self) -> int:
        return sum(len(f.hits) for f in self.findings)

    def cases(self) -> list[tuple[Rule, int]]:
        """(rule, meter index) pairs that ask for an ATR case, one per meter and rule."""
        out: list[tuple[Rule, int]] = []
        for finding in self.findings:
            if finding.rule.action == "open_atr_case":
                out += [(finding.rule, int(m)) for m in np.unique(finding.hits.meter)]
        return out


def evaluate(rule_sets: Sequence[RuleSet], frame: Frame, meters: MeterTable, now_s: int) -> Evaluation:
    """Apply every enabled rule of the rule sets matching the frame's data kind."""
    ordered, order = frame.sorted()
    n = len(ordered)
    worst = np.zeros(n, dtype=np.int8)
    replace = np.zeros(n, dtype=bool)
    covered = np.zeros(n, dtype=bool)
    findings: list[Finding] = []
    gaps: list[Hits] = []
    for rule_set in rule_sets:
        if rule_set.data_kind != frame.kind:
            continue
        set_meters = rule_set.meter_mask(meters)
        in_set = set_meters[ordered.meter]
        if not in_set.any():
            continue
        covered |= in_set
        rows: npt.NDArray[Any] | None = None if in_set.all() else np.flatnonzero(in_set)
        part = ordered if rows is None else ordered.take(rows)
        for rule in rule_set.rules:
            if not rule.enabled:
                continue
            hits = RULE_TYPES[rule.type].check(part, meters, rule.parameters, now_s)
            scope = rule.scope.meter_mask(meters)
            if not scope.all():
                hits = hits.select(scope[hits.meter], scope[part.meter])
            flagged = hits.rows if rows is None else _spread(hits.rows, rows, n)
            hit_rows = np.flatnonzero(flagged)
            if len(hit_rows):
                worst[hit_rows] = np.maximum(worst[hit_rows], SEVERITY_RANK[rule.severity])
            if rule.action == "estimate":
                if rule.severity == "fail":
                    replace |= flagged
                if rule.type == "gap":
                    gaps.append(hits)
            if len(hits):
                findings.append(Finding(rule, hits))
    quality = np.where(worst == 2, Q_FAILED, np.where(worst == 1, Q_SUSPECT, Q_VALID)).astype(np.int8)
    # Estimated and edited values keep their flag; rows no rule set covers stay as they came.
    kept = (ordered.quality_in == Q_ESTIMATED) | (ordered.quality_in == Q_EDITED) | ~covered
    quality = np.where(kept, ordered.quality_in, quality).astype(np.int8)
    # Edited readings are a person's decision: they are checked (findings) but never replaced.
    replace &= ordered.quality_in != Q_EDITED
    out_quality = np.empty(n, dtype=np.int8)
    out_quality[order] = quality
    out_replace = np.empty(n, dtype=bool)
    out_replace[order] = replace
    return Evaluation(out_quality, findings, out_replace, _gap_columns(gaps))


def _spread(part_rows: npt.NDArray[np.bool_], rows: npt.NDArray[Any], n: int) -> npt.NDArray[np.bool_]:
    full = np.zeros(n, dtype=bool)
    full[rows] = part_rows
    return full


def _gap_columns(gaps: list[Hits]) -> dict[str, npt.NDArray[np.int64]]:
    if not gaps:
        empty = np.empty(0, dtype=np.int64)
        return {"meter": empty, "first_ts": empty, "count": empty, "step_s": empty}
    meter = np.concatenate([g.meter for g in gaps])
    first = np.concatenate([g.ts for g in gaps])
    count = np.concatenate([g.value for g in gaps]).astype(np.int64)
    step = np.concatenate([g.extra["step_s"] for g in gaps]).astype(np.int64)
    # Two gap rules may report the same gap: keep each (meter, first_ts) once.
    _, unique = np.unique(np.stack([meter, first]), axis=1, return_index=True)
    return {"meter": meter[unique], "first_ts": first[unique], "count": count[unique], "step_s": step[unique]}
