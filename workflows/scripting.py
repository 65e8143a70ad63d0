"""Restricted Python for BPMN script tasks and conditions: process files are analysts' input.

Scripts are checked before they run: no imports, no names or attributes that reach the
interpreter's internals (dunders, frames, `format` traversal), builtins from a safe list only.
They are also bounded: a runaway script would stall a worker or a web request, and some
operations (`10**10**10`, `1 << 10**9`) run inside one C call that no timeout can interrupt —
so exponents and shifts need small literal right operands, `while` loops are refused, and
`range` yields at most MAX_RANGE items.
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
    return tree


class RestrictedEnvironment(TaskDataEnvironment):  # type: ignore[misc]
    """TaskDataEnvironment whose globals hold only safe builtins, after an AST check."""

    def __init__(self, extra_globals: dict[str, Any] | None = None) -> None:
        env: dict[str, Any] = {"__builtins__": SAFE_BUILTINS, **SCRIPT_GLOBALS, **(extra_globals or {})}
        super().__init__(env)

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        _vet(expression, "eval")
        return super().evaluate(expression, context, external_context)

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        _vet(script, "exec")
        return bool(super().execute(script, context, external_context))


@functools.lru_cache(maxsize=4096)
def _vet(source: str, mode: str) -> None:
    """check_script once per distinct source: a refusal raises (and is not cached)."""
    check_script(source, mode)


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
