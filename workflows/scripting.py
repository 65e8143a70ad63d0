"""Restricted Python for BPMN script tasks and conditions: process files are analysts' input.

Scripts are checked before they run: no imports, no names or attributes that reach the
interpreter's internals (dunders, frames, `format` traversal), builtins from a safe list only.
They are also bounded: a runaway script would stall a worker or a web request, and some
operations (`10**10**10`, `1 << 10**9`) run inside one C call that no timeout can interrupt —
so exponents and shifts need small literal right operands, `while` loops and recursion are
refused, `range` yields at most MAX_RANGE items, and what the checker cannot see is counted
at run time (workflows.script_bounds).
"""

from __future__ import annotations

import ast
import builtins
import datetime as dt
import decimal
import functools
import math
from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from workflows.script_bounds import GUARDS, MAX_SEQUENCE, MAX_STEPS, compile_bounded, run_bounded

SAFE_BUILTIN_NAMES = [
    "abs",
    "all",
    "any",
    "bool",
    "dict",
    "divmod",
    "enumerate",
    "filter",
    "float",
    "frozenset",
    "int",
    "isinstance",
    "len",
    "list",
    "map",
    "max",
    "min",
    "range",
    "reversed",
    "round",
    "set",
    "sorted",
    "str",
    "sum",
    "tuple",
    "zip",
    "True",
    "False",
    "None",
    "ValueError",
    "KeyError",
    "TypeError",
    "Exception",
]
SAFE_BUILTINS: dict[str, Any] = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES}
MAX_RANGE = 100_000
MAX_EXPONENT = 64


def bounded_range(*args: int) -> range:
    """`range` for process scripts: at most MAX_RANGE items."""
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise ValueError(f"range of {len(values)} items is over the limit of {MAX_RANGE} in process scripts")
    return values


SAFE_BUILTINS["range"] = bounded_range
# Helpers every script may use (plain values only, no modules).
SCRIPT_GLOBALS: dict[str, Any] = {
    "Decimal": decimal.Decimal,
    "date": dt.date,
    "datetime": dt.datetime,
    "timedelta": dt.timedelta,
    "ceil": math.ceil,
    "floor": math.floor,
}
FORBIDDEN_NAMES = frozenset(
    [
        "eval",
        "exec",
        "compile",
        "open",
        "__import__",
        "globals",
        "locals",
        "vars",
        "getattr",
        "setattr",
        "delattr",
        "input",
        "breakpoint",
        "help",
        "memoryview",
        "type",
        "object",
        "super",
        "classmethod",
        "staticmethod",
        "property",
        "dir",
        "id",
        "hasattr",
        "exit",
        "quit",
    ]
)
# Attribute names that lead from a value to frames, code or globals without a dunder.
FORBIDDEN_ATTRIBUTES = frozenset(
    [
        "format",
        "format_map",
        "mro",
        "gi_frame",
        "gi_code",
        "gi_yieldfrom",
        "cr_frame",
        "cr_code",
        "ag_frame",
        "ag_code",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_back",
        "f_code",
        "tb_frame",
        "tb_next",
        "co_code",
        "func_globals",
    ]
)
MAX_SCRIPT_CHARS = 20_000


class ScriptNotAllowed(ValueError):
    """A script or expression uses something the restricted environment forbids."""


def check_script(source: str, mode: str = "exec") -> ast.AST:
    """Parse and vet a script; raises ScriptNotAllowed naming the line and the construct."""
    if len(source) > MAX_SCRIPT_CHARS:
        raise ScriptNotAllowed(f"script is longer than {MAX_SCRIPT_CHARS} characters")
    tree = ast.parse(source, mode=mode)
    for node in ast.walk(tree):
        line = getattr(node, "lineno", "?")
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise ScriptNotAllowed(f"line {line}: import statements are not allowed in process scripts")
        if isinstance(node, ast.Global | ast.Nonlocal | ast.AsyncFunctionDef | ast.Await | ast.ClassDef):
            raise ScriptNotAllowed(f"line {line}: {type(node).__name__} is not allowed in process scripts")
        if isinstance(node, ast.Name) and (node.id.startswith("__") or node.id in FORBIDDEN_NAMES):
            raise ScriptNotAllowed(f"line {line}: the name {node.id!r} is not allowed in process scripts")
        if isinstance(node, ast.Attribute) and (
            node.attr.startswith("_") or node.attr in FORBIDDEN_ATTRIBUTES
        ):
            raise ScriptNotAllowed(
                f"line {line}: the attribute {node.attr!r} is not allowed in process scripts"
            )
        if isinstance(node, ast.While):
            raise ScriptNotAllowed(f"line {line}: while loops are not allowed in process scripts")
        if isinstance(node, ast.BinOp | ast.AugAssign) and isinstance(node.op, ast.Pow | ast.LShift):
            right = node.right if isinstance(node, ast.BinOp) else node.value
            if not (
                isinstance(right, ast.Constant)
                and isinstance(right.value, int | float)
                and not isinstance(right.value, bool)
                and abs(right.value) <= MAX_EXPONENT
            ):
                symbol = "**" if isinstance(node.op, ast.Pow) else "<<"
                raise ScriptNotAllowed(
                    f"line {line}: '{symbol}' needs a literal right operand of at most {MAX_EXPONENT}"
                    " in process scripts"
                )
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "__" in node.value:
            # Strings naming dunders only serve attribute tricks through helpers.
            raise ScriptNotAllowed(f"line {line}: strings containing '__' are not allowed in process scripts")
    static_bounds(tree)
    try:
        compile_bounded(source, mode)
    except SyntaxError as exc:
        raise ScriptNotAllowed(str(exc.msg if exc.msg else exc)) from None
    return tree


class RestrictedEnvironment(TaskDataEnvironment):  # type: ignore[misc]
    """TaskDataEnvironment whose globals hold only safe builtins, after an AST check; scripts run
    as RestrictedPython code with guarded operations, within a budget (workflows.script_bounds)."""

    def __init__(self, extra_globals: dict[str, Any] | None = None) -> None:
        env: dict[str, Any] = {
            "__builtins__": SAFE_BUILTINS,
            **GUARDS,
            **SCRIPT_GLOBALS,
            **(extra_globals or {}),
        }
        super().__init__(env)

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        code = _vet(expression, "eval")
        return run_bounded(
            lambda: super(RestrictedEnvironment, self).evaluate(code, context, external_context)
        )

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        code = _vet(script, "exec")
        return bool(
            run_bounded(lambda: super(RestrictedEnvironment, self).execute(code, context, external_context))
        )


@functools.lru_cache(maxsize=4096)
def _vet(source: str, mode: str) -> Any:
    """check_script once per distinct source, then its bounded code object (a refusal raises
    and is not cached)."""
    check_script(source, mode)
    return compile_bounded(source, mode)


def static_bounds(tree: ast.AST) -> None:
    """Refuse what can be seen to run away before it runs: nested powers, literal sizes over
    the limits, nested literal loops of too many steps, recursive functions."""
    for node in ast.walk(tree):
        line = getattr(node, "lineno", "?")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and _is_pow(node.left):
            raise ScriptNotAllowed(f"line {line}: nested '**' is not allowed in process scripts")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            size = _literal_size(node)
            if size is not None and size > MAX_SEQUENCE:
                raise ScriptNotAllowed(
                    f"line {line}: this builds {size:,} items, over the limit of {MAX_SEQUENCE:,} in process scripts"
                )
        if isinstance(node, _LOOPS):
            steps = _loop_steps(node)
            if steps > MAX_STEPS:
                raise ScriptNotAllowed(
                    f"line {line}: nested loops of {steps:,} steps, over the limit of {MAX_STEPS:,} in process scripts"
                )
        if isinstance(node, ast.FunctionDef) and any(
            isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == node.name
            for call in ast.walk(node)
        ):
            raise ScriptNotAllowed(f"line {line}: recursive functions are not allowed in process scripts")


def _is_pow(node: ast.AST) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)


def _literal_int(node: ast.AST) -> int | None:
    """The value of an integer expression made of literals (small powers only), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.BinOp):
        left, right = _literal_int(node.left), _literal_int(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Pow) and 0 <= right <= MAX_EXPONENT and abs(left) < 2**16:
            return int(left**right)
    return None


def _literal_size(node: ast.AST) -> int | None:
    """Items a literal sequence expression builds (`"x" * 10 * 10`, `[0] * (10 ** 10)`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
        return len(node.value)
    if isinstance(node, ast.List | ast.Tuple):
        return len(node.elts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for seq, count in ((node.left, node.right), (node.right, node.left)):
            size, times = _literal_size(seq), _literal_int(count)
            if size is not None and times is not None:
                return size * max(times, 0)
    return None


def _range_steps(node: ast.AST) -> int:
    """Items of `range(<literals>)`; 1 for anything else (bounded at run time)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        values = [_literal_int(a) for a in node.args]
        if node.args and all(v is not None for v in values) and len(values) <= 3:
            return len(range(*[v for v in values if v is not None]))
    return 1


def _loop_steps(node: ast.AST) -> int:
    """Steps of a loop (or comprehension) over literal ranges, with the loops nested in it (the
    worst path); a loop over anything else counts 1 here and is bounded at run time."""
    if isinstance(node, ast.For):
        own = _range_steps(node.iter)
    else:  # a comprehension: its generators nest
        own = 1
        for generator in node.generators:  # type: ignore[attr-defined]
            own *= _range_steps(generator.iter)
    return own * max((_loop_steps(child) for child in _nested_loops(node)), default=1)


_LOOPS = (ast.For, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _nested_loops(node: ast.AST) -> list[ast.AST]:
    """The loops directly inside `node` (not inside another loop within it)."""
    found: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        if isinstance(child, _LOOPS):
            found.append(child)
        else:
            stack.extend(ast.iter_child_nodes(child))
    return found


ServiceCallHandler = Callable[[str, str, dict[str, Any]], Any]


class RestrictedScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """Script engine for CMDMS processes; service calls go to `on_service_call`.

    `on_service_call(task_id, operation_name, params)` returns None to leave the task
    STARTED (the call runs later on a worker) or a JSON string to complete it now.
    """

    def __init__(self, on_service_call: ServiceCallHandler | None = None) -> None:
        super().__init__(environment=RestrictedEnvironment())
        self.on_service_call = on_service_call

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        # SpiffWorkflow 3.2.0 references an undefined `script` here, turning every error into
        # NameError (LIBRARY-NOTES); we report the operation and the real error instead.
        operation = kwargs.get("operation_name", "?")
        try:
            if self.on_service_call is None:
                raise RuntimeError("no service-call handler configured")
            params = {
                k: v["value"] if isinstance(v, dict) else v for k, v in kwargs["operation_params"].items()
            }
            return self.on_service_call(str(task.id), operation, params)
        except SpiffWorkflowException:
            raise
        except Exception as err:
            raise WorkflowTaskException(
                f"service operation {operation!r} failed: {type(err).__name__}: {err}",
                task=task,
                exception=err,
            ) from err
