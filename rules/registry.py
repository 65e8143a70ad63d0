"""Rule types: each declares its data kinds and typed parameters, and a vectorised check.

A check takes (frame, meters, params, now_s) and returns `Hits`: the rows it flags (for the
quality flag) and one failure record per finding (meter, ts, value seen, reference).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from rules.frames import Frame, MeterTable


@dataclass(frozen=True)
class Param:
    """A rule parameter: kind is int, number, bool, choice or string_list; bounds inclusive."""

    kind: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is None

    def problem(self, value: Any) -> str | None:
        """Why `value` is not acceptable, or None."""
        if self.kind == "bool":
            return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
        if self.kind == "choice":
            if value in self.choices:
                return None
            return f"expected one of {', '.join(self.choices)}, got {value!r}"
        if self.kind == "string_list":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return f"expected a list of strings, got {value!r}"
            bad = [v for v in value if self.choices and v not in self.choices]
            return f"unknown value(s) {bad} (allowed: {', '.join(self.choices)})" if bad else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            noun = "an integer" if self.kind == "int" else "a number"
            return f"expected {noun}, got {value!r}"
        if self.kind == "int" and not isinstance(value, int):
            return f"expected an integer, got {value!r}"
        if self.minimum is not None and value < self.minimum:
            return f"must be >= {self.minimum:g}, got {value!r}"
        if self.maximum is not None and value > self.maximum:
            return f"must be <= {self.maximum:g}, got {value!r}"
        return None


@dataclass
class Hits:
    """What a check found. `rows` flags frame rows; the arrays are one record per finding."""

    rows: npt.NDArray[np.bool_]
    meter: npt.NDArray[np.int64]
    ts: npt.NDArray[np.int64]
    value: npt.NDArray[np.float64]
    reference: npt.NDArray[np.float64]
    # Extra per-finding numbers or labels (run length, reading status), same length as meter.
    extra: dict[str, npt.NDArray[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.meter)

    @classmethod
    def at_rows(cls, frame: Frame, rows: npt.NDArray[np.bool_], value: Any, reference: Any) -> Hits:
        """One record per flagged row."""
        idx = np.flatnonzero(rows)
        return cls(
            rows=rows,
            meter=frame.meter[idx],
            ts=frame.ts[idx],
            value=_pick(value, idx),
            reference=_pick(reference, idx),
        )

    @classmethod
    def none(cls, frame: Frame) -> Hits:
        empty_i = np.empty(0, dtype=np.int64)
        return cls(np.zeros(len(frame), dtype=bool), empty_i, empty_i, np.empty(0), np.empty(0))

    def select(self, keep: npt.NDArray[np.bool_], row_keep: npt.NDArray[np.bool_]) -> Hits:
        return Hits(
            rows=self.rows & row_keep,
            meter=self.meter[keep],
            ts=self.ts[keep],
            value=self.value[keep],
            reference=self.reference[keep],
            extra={k: v[keep] for k, v in self.extra.items()},
        )


def _pick(values: Any, idx: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    return np.full(len(idx), float(arr)) if arr.ndim == 0 else arr[idx]


Check = Callable[[Frame, MeterTable, Mapping[str, Any], int], Hits]


@dataclass(frozen=True)
class RuleType:
    name: str
    kinds: tuple[str, ...]
    params: Mapping[str, Param]
    check: Check
    summary: str


RULE_TYPES: dict[str, RuleType] = {}


def rule_type(name: str, kinds: tuple[str, ...], summary: str, **params: Param) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULE_TYPES[name] = RuleType(name, kinds, params, check, summary)
        return check

    return register


def with_defaults(type_name: str, given: Mapping[str, Any]) -> dict[str, Any]:
    declared = RULE_TYPES[type_name].params
    return {name: given.get(name, spec.default) for name, spec in declared.items()}
