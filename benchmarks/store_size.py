"""Store-size scaling: the same batch ingested and validated into stores of growing size.

One fresh database; the store is grown with `generate_series` (kWh, kVAh and voltage every 15
minutes for the benchmark's meters, going back in time) to each size in `--sizes`. At each
size a new day of the same shape — `--batch-meters` meters x 96 intervals x 3 channels, as a
HES push brings it — is ingested and validated twice, on new keys each time:

- validated at ingest (a whole new day: decision 011), then its VEE job;
- stored raw (ingest validation set aside) and validated by the VEE job from the store, the
  path of late data, partial days and re-runs.

Goal: per-batch time flat within +-20 % across the sizes (the cost of a batch depends on the
batch, never on the size of the store).

    .venv/bin/python benchmarks/store_size.py [--sizes 1,10,50] (millions of rows)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.benchdb import FreshDatabase, redis_url
from benchmarks.end_to_end import CHANNELS, hes_messages, meter_days, prepare

LATEST_DAY = date(2026, 11, 20)  # the batches are the days after it; the store grows backwards


def grow(url: str, meters: int, rows_wanted: int, state: dict[str, int]) -> float:
    """Add whole days of every meter before the oldest stored day until the store holds
    `rows_wanted` rows: seconds taken."""
    import psycopg2

    from service.readings import partitions

    per_day = meters * 96 * len(CHANNELS)
    conn = psycopg2.connect(url)
    started = time.perf_counter()
    try:
        with conn.cursor() as cur:
            while state["rows"] < rows_wanted:
                state["days"] += 1
                day = LATEST_DAY - timedelta(days=state["days"] - 1)
                start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=5, minutes=30)
                month = partitions.partition_name("interval_readings", partitions.month_start(start))
                cur.execute(
                    f'CREATE TABLE IF NOT EXISTS "{month}" PARTITION OF interval_readings'
                    f" FOR VALUES FROM ('{partitions.month_start(start).isoformat()} 00:00:00+00')"
                    f" TO ('{partitions.next_month(partitions.month_start(start)).isoformat()} 00:00:00+00')"
                )
                cur.execute(
                    "INSERT INTO interval_readings (meter_id, channel, interval_end, value, interval_minutes,"
                    " quality, source, batch_id)"
                    " SELECT m.id, c.ch, %(start)s + g * interval '15 minutes',"
                    " CASE c.ch WHEN 'voltage_r' THEN 230 + mod(g, 7) ELSE 0.05 + mod(g, 11) * 0.01 END,"
                    " 15, 'valid', 'bench-history', 0"
                    " FROM meters m CROSS JOIN unnest(%(channels)s::text[]) c(ch)"
                    " CROSS JOIN generate_series(1, 96) g ORDER BY m.id, c.ch, g",
                    {"start": start, "channels": list(CHANNELS)},
                )
                conn.commit()
                state["rows"] += per_day
            conn.autocommit = True
            cur.execute("VACUUM ANALYZE interval_readings")
    finally:
        conn.close()
    return time.perf_counter() - started


def one_batch(
    env: dict[str, str], meters: int, batch_meters: int, day: date, at_ingest: bool
) -> dict[str, float]:
    """Ingest `batch_meters` meters' day and run its VEE job: seconds of each."""
    from integrations.hes.json_push import parse_readings
    from service import create_app
    from service.audit.log import Actor
    from service.config import load_config
    from service.extensions import db
    from service.readings import hooks, jobs
    from service.readings.ingest import ingest_batch

    app = create_app(load_config(env))
    saved = list(hooks.INGEST_VALIDATORS)
    if not at_ingest:
        hooks.INGEST_VALIDATORS.clear()
    try:
        (message,) = hes_messages(meter_days(batch_meters, day), batch_meters)
        batch = parse_readings(message)
        with app.app_context():
            from service.vee import rulebook

            session = db.session()
            rulebook.rule_sets(session)  # a new process parses the rule files once: not timed
            session.commit()
            t0 = time.perf_counter()
            result = ingest_batch(session, batch, actor=Actor("system", "bench"))
            session.info.clear()  # the VEE job is run here, not queued
            session.commit()
            t1 = time.perf_counter()
            assert jobs.batch_stored(result.batch_id) == "validated"
            t2 = time.perf_counter()
            db.session.remove()
            db.engine.dispose()
    finally:
        hooks.INGEST_VALIDATORS[:] = saved
    return {"ingest": t1 - t0, "job": t2 - t1}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1,10,50", help="store sizes in millions of rows")
    parser.add_argument("--meters", type=int, default=2000, help="meters in the store")
    parser.add_argument("--batch-meters", type=int, default=200)
    args = parser.parse_args()

    fresh = FreshDatabase("store_size")
    url = fresh.create()
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url(), "CMDMS_VAR_DIR": tempfile.mkdtemp()}
    state = {"rows": 0, "days": 0}
    values = args.batch_meters * 96 * len(CHANNELS)
    try:
        prepare(env, args.meters)
        print(
            f"batch: {args.batch_meters} meters x 96 x {len(CHANNELS)} = {values:,} values;"
            f" store: {args.meters:,} meters, grown backwards a day at a time"
        )
        print(
            f"{'store rows':>12} {'grown in':>9} | {'at ingest: ingest + job':>24} | {'raw, by the job: ingest + job':>30}"
        )
        figures = []
        for n, size in enumerate(float(s) for s in args.sizes.split(",")):
            grew = grow(url, args.meters, int(size * 1_000_000), state)
            # Best of two batches per path and size (new days each): the machine is shared.
            day = LATEST_DAY + timedelta(days=1 + 4 * n)
            fast = min(
                (
                    one_batch(env, args.meters, args.batch_meters, day + timedelta(days=k), True)
                    for k in (0, 1)
                ),
                key=lambda f: sum(f.values()),
            )
            slow = min(
                (
                    one_batch(env, args.meters, args.batch_meters, day + timedelta(days=k), False)
                    for k in (2, 3)
                ),
                key=lambda f: sum(f.values()),
            )
            figures.append((sum(fast.values()), sum(slow.values())))
            print(
                f"{state['rows']:>12,} {grew:>8.0f}s | {fast['ingest']:6.2f} + {fast['job']:5.2f} = {sum(fast.values()):5.2f} s"
                f" | {slow['ingest']:6.2f} + {slow['job']:5.2f} = {sum(slow.values()):5.2f} s"
            )
        for label, column in (("at ingest", 0), ("by the job", 1)):
            times = [f[column] for f in figures]
            spread = max(times) / min(times) - 1
            print(f"{label}: slowest / fastest batch = {spread:+.0%} (goal within +-20 %)")
    finally:
        fresh.drop()


if __name__ == "__main__":
    main()
