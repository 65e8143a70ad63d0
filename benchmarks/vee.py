"""VEE throughput: the full smart-meter interval rule set over one day of 100,000 meters
(9.6 M readings) on one core, beside a pure-Python baseline of the same rules in the same run,
and billing determinants for 100,000 consumers on the engine (synthetic arrays).

Usage: .venv/bin/python benchmarks/vee.py [--meters 100000] [--baseline-meters 2000]
       [--consumers 100000] [--chunk 10000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from rules import determinants as dmath
from rules.engine import evaluate
from rules.frames import Q_ESTIMATED, Q_VALID, Frame, MeterTable
from rules.loader import RULES_DIR, load_file

DAY0 = 1_790_706_600  # 2026-10-05 00:00 IST
STEP = 900
NOW = DAY0 + 2 * 86_400


FAULT_SHARE = 0.01  # of meter-days, per kind of fault: every rule of the set finds some


def synthetic_day(meters: int, seed: int = 1) -> tuple[Frame, MeterTable]:
    """A day of 15-min intervals per meter; about 1 % of the meters carry each kind of fault
    (gap, spike, zero run, static run, high day, sum mismatch, export, over-load demand, future
    stamp, kVAh below kWh, PF above 1, frequency out of band, estimated history, a dead day)."""
    rng = np.random.default_rng(seed)
    per = 96
    n = meters * per
    meter = np.repeat(np.arange(meters, dtype=np.int64), per)
    slot = np.tile(np.arange(per), meters)
    ts = DAY0 + STEP * (slot + 1).astype(np.int64)
    shape = 0.2 + 0.15 * np.sin(np.arange(per) / per * 2 * np.pi) ** 2
    kwh = np.tile(shape, meters) * rng.uniform(0.9, 1.1, n)
    export = np.zeros(n)
    hz = rng.normal(50, 0.05, n)
    history_estimated = rng.integers(0, 100, meters)
    register_factor = np.ones(meters)
    fault = {kind: rng.random(meters) < FAULT_SHARE for kind in (
        "gap", "spike", "zero", "static", "high", "sum", "export", "demand", "future", "kvah", "pf",
        "freq", "estimated", "dead")}  # fmt: skip
    at = rng.integers(10, per - 20, meters)  # where in its day a meter's fault sits
    row = meter * per + at[meter]  # the fault's first row, per row's meter
    first = slot == at[meter]
    kwh[first & fault["spike"][meter]] *= 20
    run = (slot >= at[meter]) & (slot < at[meter] + 8)
    kwh[run & fault["zero"][meter]] = 0.0
    static = run & fault["static"][meter]
    kwh[static] = kwh[row[static]]
    kwh[fault["high"][meter]] *= 2.0
    register_factor[fault["sum"]] = 1.1
    kwh[fault["dead"][meter]] = 0.0  # a whole day at zero (SM-INT-ZERO-AG on agricultural feeders)
    export[first & fault["export"][meter]] = 0.3
    kwh[first & fault["demand"][meter]] = 5.0
    kvah = kwh * rng.uniform(1.02, 1.2, n)
    kvah[first & fault["kvah"][meter]] = kwh[first & fault["kvah"][meter]] * 0.8
    pf = np.clip(np.divide(kwh, kvah, out=np.ones_like(kwh), where=kvah > 0), 0, 1)
    pf[first & fault["pf"][meter]] = 1.2
    hz[first & fault["freq"][meter]] = 53.0
    ts[(slot == per - 1) & fault["future"][meter]] = NOW + 86_400
    history_estimated[fault["estimated"]] = 1_000
    keep = ~(run & fault["gap"][meter])
    daily = np.bincount(meter, weights=np.where(fault["high"][meter], kwh / 2, kwh), minlength=meters)
    frame = Frame(
        "interval",
        meter[keep],
        ts[keep],
        {
            "kwh": kwh[keep],
            "kvah": kvah[keep],
            "kwh_export": export[keep],
            "pf": pf[keep],
            "frequency_hz": hz[keep],
            "voltage_v": rng.normal(235, 5, n)[keep],
        },
        np.zeros(int(keep.sum()), dtype=np.int8),
    )
    table = MeterTable.build(
        meters,
        meter_class=np.where(rng.random(meters) < 0.8, "smart_1ph", "smart_3ph").astype(object),
        feeder_type=rng.choice(np.array(["urban", "rural_mixed", "agricultural"], dtype=object), meters),
        sanctioned_load=rng.choice([2.0, 3.0, 5.0, 10.0], meters),
        avg_daily_kwh=daily,
        register_start_kwh=np.full(meters, 1000.0),
        register_end_kwh=1000.0 + np.bincount(meter, weights=kwh, minlength=meters) * register_factor,
        register_start_ts=DAY0,
        register_end_ts=DAY0 + 86_400,
        window_start_ts=DAY0,
        window_end_ts=DAY0 + 86_400,
        history_estimated=history_estimated,
        history_total=np.full(meters, 2688),
    )
    return frame, table


def python_baseline(frame: Frame, meters: MeterTable, rules: Any) -> int:
    """The same interval rules as plain Python loops over each meter's readings."""
    p = {r.type: r.parameters for r in rules}
    kwh, kvah = frame.channels["kwh"].tolist(), frame.channels["kvah"].tolist()
    export, pf = frame.channels["kwh_export"].tolist(), frame.channels["pf"].tolist()
    hz, ts = frame.channels["frequency_hz"].tolist(), frame.ts.tolist()
    quality, meter = frame.quality_in.tolist(), frame.meter.tolist()
    flagged = 0
    i, n = 0, len(ts)
    while i < n:
        m = meter[i]
        j = i
        while j < n and meter[j] == m:
            j += 1
        step = int(meters.interval_minutes[m]) * 60
        load = float(meters.sanctioned_load[m])
        rows = range(i, j)
        missing = sum(max(0, (ts[k] - ts[k - 1]) // step - 1) for k in range(i + 1, j))
        flagged += missing > p["gap"]["max_missing"]
        day = sorted(kwh[i:j], reverse=True)
        if (
            len(day) >= 3
            and day[0] >= p["spike"]["min_peak_kwh"]
            and day[0] > p["spike"]["threshold_pct"] / 100 * day[2]
        ):
            flagged += 1
        run = same = 0
        for k in rows:
            run = run + 1 if kwh[k] == 0 else 0
            same = same + 1 if k > i and kwh[k] == kwh[k - 1] and kwh[k] != 0 else 0
            flagged += run == p["zero_run"]["min_intervals"]
            flagged += same + 1 == p["static"]["min_intervals"]
            flagged += export[k] > p["reverse_energy"]["min_export_kwh"]
            flagged += kwh[k] * 3600 / step > load * p["demand_over_load"]["factor"]
            flagged += ts[k] > NOW + p["future_timestamp"]["tolerance_minutes"] * 60
            flagged += kvah[k] < kwh[k] * (1 - p["kvah_below_kwh"]["tolerance_pct"] / 100)
            flagged += not (p["pf_range"]["min_pf"] <= pf[k] <= p["pf_range"]["max_pf"])
            flagged += not (p["frequency_band"]["min_hz"] <= hz[k] <= p["frequency_band"]["max_hz"])
        total = sum(kwh[i:j])
        avg = float(meters.avg_daily_kwh[m])
        flagged += total > avg * 1.5 or total < avg * 0.5
        register = (float(meters.register_end_kwh[m]) - float(meters.register_start_kwh[m])) * float(
            meters.multiplier[m]
        )
        flagged += abs(total - register) > register * p["sum_check"]["tolerance_pct"] / 100
        est = sum(1 for k in rows if quality[k] == Q_ESTIMATED) + int(meters.history_estimated[m])
        flagged += (
            est * 100 / (j - i + int(meters.history_total[m]))
            > p["prolonged_estimation"]["max_estimated_pct"]
        )
        i = j
    return flagged


def bench_interval(meters: int, baseline_meters: int, repeat: int = 3) -> dict[str, Any]:
    """Best of `repeat` runs each, the engine and the pure-Python baseline alike, each run on a
    frame built afresh (untimed): nothing derived in one run is reused by the next."""
    rule_set = load_file(RULES_DIR / "smart-interval.yaml").rule_set
    assert rule_set is not None
    best = py_best = float("inf")
    for run in range(repeat):
        frame, table = synthetic_day(meters, seed=1 + run)
        t0 = time.perf_counter()
        result = evaluate([rule_set], frame, table, NOW)
        best = min(best, time.perf_counter() - t0)
        sub_frame, sub_table = synthetic_day(baseline_meters, seed=100 + run)
        t0 = time.perf_counter()
        python_baseline(sub_frame, sub_table, rule_set.rules)
        py_best = min(py_best, time.perf_counter() - t0)
    hits = {rule.id: 0 for rule in rule_set.rules}
    for finding in result.findings:
        hits[finding.rule.id] += len(finding.hits)
    return {
        "readings": len(frame),
        "rules": len(rule_set.rules),
        "numpy_seconds": best,
        "numpy_rate": len(frame) / best,
        "failures": result.failure_count,
        "not_valid": int((result.quality != Q_VALID).sum()),
        "hits": hits,
        "python_readings": len(sub_frame),
        "python_rate": len(sub_frame) / py_best,
    }


def synthetic_month(consumers: int, seed: int) -> tuple[dmath.Segments, dmath.Intervals]:
    """A month (30 days) of 30-min intervals per consumer; one in ten had its meter replaced."""
    rng = np.random.default_rng(seed)
    per = 30 * 48
    replaced = rng.random(consumers) < 0.1
    seg_consumer = np.concatenate([np.arange(consumers), np.flatnonzero(replaced)])
    n_seg = len(seg_consumer)
    c = np.repeat(np.arange(consumers, dtype=np.int64), per)
    ts = np.tile(DAY0 + 1800 * np.arange(1, per + 1, dtype=np.int64), consumers)
    kwh = rng.uniform(0.05, 0.6, consumers * per)
    segments = dmath.Segments(
        consumer=seg_consumer.astype(np.int64),
        start_kwh=rng.uniform(0, 50_000, n_seg),
        end_kwh=rng.uniform(0, 50_000, n_seg) + 300,
        start_kvah=rng.uniform(0, 50_000, n_seg),
        end_kvah=rng.uniform(0, 50_000, n_seg) + 350,
        multiplier=np.ones(n_seg),
        display_digits=np.full(n_seg, 6, dtype=np.int64),
        expected_intervals=np.full(n_seg, per // 2, dtype=np.int64),
    )
    intervals = dmath.Intervals(
        consumer=c,
        ts=ts,
        step_s=np.full(len(ts), 1800, dtype=np.int64),
        kwh=kwh,
        kvah=kwh * 1.1,
        quality=np.where(rng.random(len(ts)) < 0.01, 2, 1).astype(np.int8),
    )
    return segments, intervals


def bench_determinants(consumers: int, chunk: int) -> dict[str, float]:
    seconds = 0.0
    rows = 0
    for start in range(0, consumers, chunk):
        size = min(chunk, consumers - start)
        segments, intervals = synthetic_month(size, seed=start)
        rows += len(intervals.ts)
        t0 = time.perf_counter()
        dmath.compute(size, segments, intervals)
        seconds += time.perf_counter() - t0
    return {"consumers": consumers, "interval_rows": rows, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meters", type=int, default=100_000)
    parser.add_argument("--baseline-meters", type=int, default=2_000)
    parser.add_argument("--consumers", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=10_000)
    args = parser.parse_args()
    r = bench_interval(args.meters, args.baseline_meters)
    print(
        f"interval rule set: {r['rules']} rules (rules/smart-interval.yaml) over {r['readings']:,} readings"
    )
    print(
        f"  numpy engine (best of 3): {r['numpy_seconds']:.2f} s = {r['numpy_rate'] / 1e6:.2f} M readings/s"
    )
    print(f"  findings: {r['failures']:,}; readings not valid: {r['not_valid']:,}")
    print("  hits per rule (last run): " + ", ".join(f"{k} {v:,}" for k, v in r["hits"].items()))
    silent = [k for k, v in r["hits"].items() if v == 0]
    print(f"  rules that found nothing: {', '.join(silent) if silent else 'none'}")
    print(
        f"  pure Python, same rules, {args.baseline_meters:,} meters ({r['python_readings']:,} readings),"
        f" best of 3, fresh frames: {r['python_rate'] / 1e6:.2f} M readings/s"
        f" -> {r['readings'] / r['python_rate']:.1f} s for the full day"
    )
    print(f"  speed-up: {r['numpy_rate'] / r['python_rate']:.1f}x")
    d = bench_determinants(args.consumers, args.chunk)
    print(
        f"determinants engine: {d['consumers']:,} consumers, {d['interval_rows']:,} interval rows"
        f" (a 30-day month of 30-min data, 10 % with a replacement), chunks of {args.chunk:,}:"
        f" {d['seconds']:.1f} s (compute only, synthetic arrays; data generation not timed)"
    )


if __name__ == "__main__":
    main()
