"""Parse rates of the adapters on one core: values per second for CDF XML, CIM XML and HES JSON.

A day of 15-minute block load (kWh, kVAh, kvarh lag/lead, V, I; one meter in three
three-phase) for `n_meters` meters is written by the simulators, then parsed, best of 3.
Messages are split the way they arrive: one CDF file per meter, CIM and HES pushes of 200
meters each. The baseline, measured in the same run, is `json.loads` of the HES messages
alone (the floor any JSON adapter pays). Times are the process's CPU time, so the rate is one
core's even when other work shares the machine (wall time would measure the scheduler).
CIM messages are in the schema's order (Meter after IntervalBlocks, as real HES send them).

    .venv/bin/python benchmarks/parse_rates.py [--meters 2000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from integrations.amr.cdf import parse_cdf
from integrations.amr.simulator import cdf_file
from integrations.cim.meter_readings import parse_meter_readings
from integrations.cim.simulator import meter_readings_message
from integrations.hes.json_push import parse_readings
from integrations.hes.simulator import encode, readings_message
from integrations.simulation import SimMeter, simulate_day

DAY = date(2026, 11, 26)
PUSH_METERS = 200


def _days(n_meters: int) -> list[Any]:
    shapes = ("domestic", "commercial", "industrial", "agricultural")
    return [
        simulate_day(
            SimMeter(f"B{i:08d}", shape=shapes[i % 4], phases=3 if i % 3 == 0 else 1, interval_minutes=15),
            DAY,
        )
        for i in range(n_meters)
    ]


def _best_rate(parse: Callable[[bytes], Any], messages: list[bytes], repeat: int = 3) -> tuple[float, int]:
    best = float("inf")
    values = 0
    for _ in range(repeat):
        started = time.process_time()
        values = sum(parse(m).value_count for m in messages)
        best = min(best, time.process_time() - started)
    return values / best, values


def measure_parsers(n_meters: int = 2000) -> dict[str, float]:
    """values/s per format (and the json.loads baseline), best of 3 on one core."""
    days = _days(n_meters)
    chunks = [days[i : i + PUSH_METERS] for i in range(0, len(days), PUSH_METERS)]
    cdf = [cdf_file([sim], billing=False, events=False) for sim in days]
    cim = [meter_readings_message(chunk, registers=False) for chunk in chunks]
    hes = [encode(readings_message(chunk, profiles=("block_load",))) for chunk in chunks]
    figures: dict[str, float] = {}
    figures["cdf_xml_values_per_s"], _ = _best_rate(parse_cdf, cdf)
    figures["cim_xml_values_per_s"], _ = _best_rate(parse_meter_readings, cim)
    figures["hes_json_values_per_s"], values = _best_rate(parse_readings, hes)
    started = time.process_time()
    for message in hes:
        json.loads(message)
    figures["baseline_json_loads_values_per_s"] = values / (time.process_time() - started)
    return {name: round(rate) for name, rate in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meters", type=int, default=2000)
    args = parser.parse_args()
    print(f"parse rates, {args.meters} meters x 96 intervals, one core, best of 3 (goal >= 150,000 values/s)")
    for name, rate in measure_parsers(args.meters).items():
        print(f"  {name:<34} {rate:>12,}")


if __name__ == "__main__":
    main()
