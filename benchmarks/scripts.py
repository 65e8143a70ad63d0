"""Cost of one process-script call: SpiffWorkflow's plain environment, the checked environment as
it was before the run-time bounds (AST check cached, source compiled per call), and today's
bounded one (RestrictedPython code cached, guarded operations, a step budget) — in one run.

.venv/bin/python benchmarks/scripts.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# What process files hold: a one-line script, a gateway condition, a small computation.
CASES = {
    "assignment": ("exec", "escalated = True"),
    "condition": ("eval", 'decision == "approve"'),
    "loop of 96": ("exec", "total = 0\nfor v in values:\n    total = total + v * 2\npeak = max(values)"),
}


def _per_call_us(call: Any, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls * 1e6


def _runner(env: Any, mode: str, source: str, vet: Any = None) -> Any:
    def once() -> Any:
        if vet is not None:
            vet(source, mode)
        context = {"decision": "approve", "values": [0.25 + 0.01 * i for i in range(96)]}
        return env.evaluate(source, context) if mode == "eval" else env.execute(source, context)

    return once


def measure(calls: int) -> dict[str, dict[str, float]]:
    from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment

    from workflows.scripting import SAFE_BUILTINS, SCRIPT_GLOBALS, RestrictedEnvironment, check_script

    plain = TaskDataEnvironment()
    before = TaskDataEnvironment({"__builtins__": SAFE_BUILTINS, **SCRIPT_GLOBALS})
    vet = functools.lru_cache(maxsize=64)(check_script)
    bounded = RestrictedEnvironment()
    out: dict[str, dict[str, float]] = {}
    for name, (mode, source) in CASES.items():
        out[name] = {
            "plain": _per_call_us(_runner(plain, mode, source), calls),
            "before": _per_call_us(_runner(before, mode, source, vet), calls),
            "bounded": _per_call_us(_runner(bounded, mode, source), calls),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    print(f"{'script':<12} {'plain µs':>9} {'before µs':>10} {'bounded µs':>11} {'bounded/before':>15}")
    for name, figures in measure(args.calls).items():
        ratio = figures["bounded"] / figures["before"]
        print(
            f"{name:<12} {figures['plain']:>9.1f} {figures['before']:>10.1f} {figures['bounded']:>11.1f} {ratio:>14.2f}×"
        )


if __name__ == "__main__":
    main()
