"""Run every benchmark in turn with its defaults (`make bench`); each prints its own figures.

Pass `--quick` for smaller sizes that finish in a few minutes on a laptop.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (script, arguments for --quick)
BENCHMARKS = [
    ("parse_rates.py", ["--meters", "500"]),
    ("ingest.py", ["--meters", "10000"]),
    ("vee.py", ["--meters", "10000", "--consumers", "10000"]),
    ("determinants.py", ["--consumers", "5000", "--interval-meters", "500", "--chunk", "2500"]),
    ("masterdata.py", ["--consumers", "2000", "--runs", "1"]),
    ("workflow.py", ["--instances", "200", "--rounds", "2"]),
    ("notifications.py", ["--messages", "500"]),
    ("reports.py", ["--quick"]),
]


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    failed = []
    for script, quick_args in BENCHMARKS:
        print(f"\n===== {script} {'(quick)' if quick else ''}", flush=True)
        args = [sys.executable, str(HERE / script), *(quick_args if quick else [])]
        if subprocess.run(args, check=False).returncode != 0:
            failed.append(script)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
