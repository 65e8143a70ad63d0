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


def synthetic_day(meters: int, seed: int = 1) -> tuple[Frame, MeterTable]:
    """A day of 15-min intervals per meter with ~1 % defects of each kind and ~0.5 % gaps."""
    rng = np.random.default_rng(seed)
    per = 96
    meter = np.repeat(np.arange(meters, dtype=np.int64), per)
    ts = np.tile(DAY0 + STEP * np.arange(1, per + 1, dtype=np.int64), meters)
    shape = 0.2 + 0.15 * np.sin(np.arange(per) / per * 2 * np.pi) ** 2
    kwh = np.tile(shape, meters) * rng.uniform(0.5, 1.5, meters * per)
    pick = rng.random(meters * per)
    kwh[pick < 0.0005] *= 20  # spikes
    kwh[(pick > 0.3) & (pick < 0.3008)] = 0.0
    kvah = kwh * rng.uniform(1.0, 1.25, meters * per)
    kvah[pick > 0.9999] = kwh[pick > 0.9999] * 0.8
    export = np.zeros(meters * per)
    export[pick > 0.99995] = 0.3
    keep = ~((pick > 0.5) & (pick < 0.505))
    frame = Frame(
        "interval",
        meter[keep],
        ts[keep],
        {
            "kwh": kwh[keep],
            "kvah": kvah[keep],
            "kwh_export": export[keep],
            "pf": np.clip(np.divide(kwh, kvah, out=np.ones_like(kwh), where=kvah > 0), 0, 1)[keep],
            "frequency_hz": rng.normal(50, 0.05, meters * per)[keep],
            "voltage_v": rng.normal(235, 5, meters * per)[keep],
        },
        np.where(rng.random(int(keep.sum())) < 0.002, Q_ESTIMATED, 0).astype(np.int8),
    )
    daily = np.bincount(meter, weights=kwh, minlength=meters)
    table = MeterTable.build(
        meters,
        meter_class=np.where(rng.random(meters) < 0.8, "smart_1ph", "smart_3ph").astype(object),
        feeder_type=rng.choice(np.array(["urban", "rural_mixed", "agricultural"], dtype=object), meters),
        sanctioned_load=rng.choice([2.0, 3.0, 5.0, 10.0], meters),
        avg_daily_kwh=daily * rng.uniform(0.7, 1.3, meters),
        register_start_kwh=np.full(meters, 1000.0),
        register_end_kwh=1000.0 + daily * np.where(rng.random(meters) < 0.01, 1.05, 1.0),
        register_start_ts=DAY0,
        register_end_ts=DAY0 + 86_400,
        window_start_ts=DAY0,
        window_end_ts=DAY0 + 86_400,
        history_estimated=rng.integers(0, 400, meters),
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


def bench_interval(meters: int, baseline_meters: int) -> dict[str, float]:
    rule_set = load_file(RULES_DIR / "smart-interval.yaml").rule_set
    assert rule_set is not None
    frame, table = synthetic_day(meters)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        result = evaluate([rule_set], frame, table, NOW)
        best = min(best, time.perf_counter() - t0)
    sub_frame, sub_table = synthetic_day(baseline_meters, seed=2)
    t0 = time.perf_counter()
    python_baseline(sub_frame, sub_table, rule_set.rules)
    py_seconds = time.perf_counter() - t0
    return {
        "readings": len(frame),
        "rules": len(rule_set.rules),
        "numpy_seconds": best,
        "numpy_rate": len(frame) / best,
        "failures": result.failure_count,
        "not_valid": int((result.quality != Q_VALID).sum()),
        "python_readings": len(sub_frame),
        "python_rate": len(sub_frame) / py_seconds,
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
    print(
        f"  pure Python, same rules, {args.baseline_meters:,} meters ({r['python_readings']:,} readings),"
        f" extrapolated: {r['python_rate'] / 1e6:.2f} M readings/s"
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
