"""Run-time bounds of process scripts: RestrictedPython compiles them with guarded operations
that count steps and the size of what they build, so a runaway script becomes an incident.

Every loop iteration (`_getiter_`) and every function call (`_tick_`) is a step; `+`, `*`, `**`
and `<<` go through `_binop_`, which refuses a result that would be too large *before* the one
C call that computes it (no timer can interrupt that call). The budget is per script run.
"""

from __future__ import annotations

import ast
import contextvars
import functools
import operator
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from RestrictedPython import RestrictingNodeTransformer, compile_restricted
from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)

MAX_STEPS = 1_000_000  # loop iterations and function calls per script run
MAX_ELEMENTS = 10_000_000  # items (characters, list elements) built by + and * per run
MAX_SEQUENCE = 1_000_000  # the longest string, list or tuple one operation may build
MAX_INT_BITS = 100_000  # the largest integer one operation may build (about 30,000 digits)
MAX_SECONDS = 5.0  # wall-clock backstop per run, checked with the step count


class ScriptBudgetExceeded(RuntimeError):
    """A script ran past its bounds; the task fails (an incident), the worker stays free."""


@dataclass
class Budget:
    steps: int = MAX_STEPS
    elements: int = MAX_ELEMENTS
    deadline: float = field(default_factory=lambda: time.monotonic() + MAX_SECONDS)

    def step(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise ScriptBudgetExceeded(f"the script ran more than {MAX_STEPS:,} loop steps and calls")
        if self.steps % 4096 == 0 and time.monotonic() > self.deadline:
            raise ScriptBudgetExceeded(f"the script ran longer than {MAX_SECONDS:g} s")

    def build(self, size: int) -> None:
        self.elements -= size
        if self.elements < 0:
            raise ScriptBudgetExceeded(f"the script built more than {MAX_ELEMENTS:,} items")


_BUDGET: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("cmdms_script_budget", default=None)


def _budget() -> Budget:
    found = _BUDGET.get()
    if found is None:  # a guarded op outside run_bounded: bound it on its own
        found = Budget()
        _BUDGET.set(found)
    return found


def run_bounded(run: Callable[[], Any]) -> Any:
    """Run one script or expression with a fresh budget."""
    token = _BUDGET.set(Budget())
    try:
        return run()
    finally:
        _BUDGET.reset(token)


def _tick() -> None:
    _budget().step()


def _counted(items: Iterable[Any]) -> Iterator[Any]:
    budget = _budget()
    for item in items:
        budget.step()
        yield item


def _sized(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple) else 0


def _refuse_size(what: str, size: int, limit: int) -> None:
    """`what` is "items" or "bits"."""
    if size > limit:
        kind = "a sequence" if what == "items" else "an integer"
        raise ScriptBudgetExceeded(
            f"{kind} of {size:,} {what} is over the limit of {limit:,} {what} in process scripts"
        )


def _int_bits(value: Any) -> int:
    return value.bit_length() if isinstance(value, int) else 0


def _binop(op: str, left: Any, right: Any) -> Any:
    """`left op right` after checking the size of the result (strings, lists, integers)."""
    if type(left) is float or type(right) is float:  # the common case in meter arithmetic: no size
        return _PLAIN[op](left, right)
    if op == "*":
        seq, count = (left, right) if _sized(left) else (right, left)
        if _sized(seq) and isinstance(count, int):
            size = len(seq) * max(count, 0)
            _refuse_size("items", size, MAX_SEQUENCE)
            _budget().build(size)
        elif isinstance(left, int) and isinstance(right, int):
            _refuse_size("bits", _int_bits(left) + _int_bits(right), MAX_INT_BITS)
        return left * right
    if op == "+":
        if _sized(left) and _sized(right):
            size = len(left) + len(right)
            _refuse_size("items", size, MAX_SEQUENCE)
            _budget().build(size)
        return left + right
    if op == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0:
            _refuse_size("bits", max(_int_bits(left), 1) * right, MAX_INT_BITS)
        return left**right
    if op == "<<":
        if isinstance(left, int) and isinstance(right, int):
            _refuse_size("bits", _int_bits(left) + max(right, 0), MAX_INT_BITS)
        return left << right
    raise ValueError(f"unexpected operator {op!r}")


_PLAIN: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "*": operator.mul,
    "**": operator.pow,
    "<<": operator.lshift,
}
_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "-=": operator.sub,
    "/=": operator.truediv,
    "//=": operator.floordiv,
    "%=": operator.mod,
    ">>=": operator.rshift,
    "&=": operator.and_,
    "|=": operator.or_,
    "^=": operator.xor,
}


def _inplace(op: str, left: Any, right: Any) -> Any:
    if op in ("+=", "*=", "**=", "<<="):
        return _binop(op[:-1], left, right)
    return _INPLACE[op](left, right)


_GUARDED_OPS = {ast.Add: "+", ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<"}


class BoundedTransformer(RestrictingNodeTransformer):  # type: ignore[misc]
    """RestrictedPython's policy, plus guarded arithmetic and a step at every call."""

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        symbol = _GUARDED_OPS.get(type(node.op))
        if symbol is None:
            return node
        call = ast.Call(
            func=ast.Name("_binop_", ast.Load()),
            args=[ast.Constant(symbol), node.left, node.right],
            keywords=[],
        )
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        node = cast(ast.FunctionDef, super().visit_FunctionDef(node))
        tick = ast.Expr(ast.Call(func=ast.Name("_tick_", ast.Load()), args=[], keywords=[]))
        node.body.insert(0, ast.fix_missing_locations(ast.copy_location(tick, node)))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        node = cast(ast.Lambda, super().visit_Lambda(node))
        tick = ast.Call(func=ast.Name("_tick_", ast.Load()), args=[], keywords=[])
        # `_tick_()` is None, so `_tick_() or body` is the body, evaluated after the step.
        node.body = ast.fix_missing_locations(
            ast.copy_location(ast.BoolOp(op=ast.Or(), values=[tick, node.body]), node.body)
        )
        return node


def _getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def _write(obj: Any) -> Any:
    return obj


GUARDS: dict[str, Any] = {
    "_getiter_": _counted,
    "_getattr_": safer_getattr,
    "_getitem_": _getitem,
    "_write_": _write,
    "_inplacevar_": _inplace,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_binop_": _binop,
    "_tick_": _tick,
}


@functools.lru_cache(maxsize=4096)
def compile_bounded(source: str, mode: str) -> Any:
    """The code object of a (vetted) script; raises SyntaxError naming what the policy refused."""
    return compile_restricted(source, "<process script>", cast(Any, mode), policy=BoundedTransformer)
