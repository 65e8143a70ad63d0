"""Billing determinants through the database for 100,000 consumers: load + compute + write.

A fresh benchmark database (all migrations) gets the demo discom's master data
(`seed_masterdata(consumers=N)`), 1 % of consumers with a meter replaced on 16 Oct, and a
month of readings written by binary COPY, already `valid`: daily kWh/kVAh registers at every
local midnight of October 2026 for every consumer meter, and 30-minute kWh/kVAh intervals for
the first `--interval-meters` meters (1 % of those intervals failed). Then
the work of `service.vee.determinant_jobs.determinants_chunk` — set-based load,
`rules.determinants`, bulk revisions and outbox rows, commit, pushes enqueued on RQ — runs per
chunk in this process (no worker), timed twice (all new, then unchanged);
beside it, the engine alone on synthetic arrays (`benchmarks/vee.py`), in the same run.

    .venv/bin/python benchmarks/determinants.py [--consumers 100000] [--interval-meters 10000]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.benchdb import FreshDatabase, redis_url

PERIOD = "2026-10"
START = np.datetime64("2026-09-30T18:30:00", "s")  # 1 Oct 00:00 IST
DAYS = 31


def _copy(cur: object, table: str, columns: str, buffer: bytes) -> None:
    cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT binary)", io.BytesIO(buffer))  # type: ignore[attr-defined]


def _replace_meters(session: object, share: float) -> int:
    """Close `share` of consumer installations on 16 Oct and install a copy of the meter (MF 1)."""
    from sqlalchemy import text

    from service.masterdata.models import Meter

    cols = [c.name for c in Meter.__table__.columns if c.name not in ("id", "serial_number")]
    every = round(1 / share)
    s = session  # type: ignore[assignment]
    s.execute(
        text(
            f"CREATE TEMP TABLE replaced AS SELECT id, meter_id, consumer_id FROM installations"
            f" WHERE consumer_id IS NOT NULL AND removed_at IS NULL AND consumer_id % {every} = 0"
        )
    )
    s.execute(
        text(
            "UPDATE installations i SET removed_at = '2026-10-15T18:30:00+00', final_kwh = 5000,"
            " final_kvah = 5600 FROM replaced r WHERE r.id = i.id"
        )
    )
    s.execute(
        text(
            f"INSERT INTO meters (serial_number, {', '.join(cols)}) SELECT 'R' || m.serial_number,"
            f" {', '.join('m.' + c for c in cols)} FROM meters m JOIN replaced r ON r.meter_id = m.id"
        )
    )
    return int(
        s.execute(
            text(
                "INSERT INTO installations (meter_id, consumer_id, installed_at, initial_kwh, initial_kvah)"
                " SELECT n.id, r.consumer_id, '2026-10-15T18:30:00+00', 0, 0 FROM replaced r"
                " JOIN meters o ON o.id = r.meter_id JOIN meters n ON n.serial_number = 'R' || o.serial_number"
            )
        ).rowcount
    )


def _readings(raw: object, meter_ids: np.ndarray, interval_meters: int) -> tuple[int, int]:
    """Daily registers for every meter, intervals for the first `interval_meters`; all valid."""
    from service.readings.store import _HEADER, _TRAILER, binary_rows, timestamps_us

    rng = np.random.default_rng(3)
    cur = raw.cursor()  # type: ignore[attr-defined]
    n = len(meter_ids)
    midnights = START + np.arange(DAYS + 1) * np.timedelta64(1, "D")
    daily = rng.uniform(2, 12, (n, DAYS))
    kwh = np.concatenate([rng.uniform(100, 40_000, (n, 1)), daily], axis=1).cumsum(axis=1)
    kvah = kwh * 1.12
    parts = [_HEADER]
    for channel, values in ((b"kwh", kwh), (b"kvah", kvah)):
        parts.append(
            binary_rows(
                [
                    (">i4", np.repeat(meter_ids, DAYS + 1)),
                    ("S5", b"daily"),
                    (f"S{len(channel)}", channel),
                    (">i2", 0),
                    (">i8", timestamps_us(np.tile(midnights, n))),
                    (">f8", values.ravel()),
                    ("S5", b"valid"),
                    ("S5", b"bench"),
                    (">i8", 1),
                ]
            )
        )
    parts.append(_TRAILER)
    _copy(
        cur,
        "register_reads",
        "meter_id, kind, channel, tod_zone, read_at, value, quality, source, batch_id",
        b"".join(parts),
    )
    registers = n * (DAYS + 1) * 2
    per = DAYS * 48
    ends = timestamps_us(START + np.arange(1, per + 1) * np.timedelta64(30, "m"))
    intervals = 0
    for first in range(0, interval_meters, 2_000):
        ids = meter_ids[first : min(first + 2_000, interval_meters)]
        values = rng.uniform(0.02, 0.4, len(ids) * per)
        failed = rng.random(len(values)) < 0.01
        meter_col = np.repeat(ids, per)
        ends_col = np.tile(ends, len(ids))
        parts = [_HEADER]
        for quality, rows in ((b"valid", ~failed), (b"failed", failed)):
            for channel, v in ((b"kwh", values), (b"kvah", values * 1.12)):
                parts.append(
                    binary_rows(
                        [
                            (">i4", meter_col[rows]),
                            (f"S{len(channel)}", channel),
                            (">i8", ends_col[rows]),
                            (">f8", v[rows]),
                            (">i2", 30),
                            (f"S{len(quality)}", quality),
                            ("S5", b"bench"),
                            (">i8", 1),
                        ]
                    )
                )
        parts.append(_TRAILER)
        _copy(
            cur,
            "interval_readings",
            "meter_id, channel, interval_end, value, interval_minutes, quality, source, batch_id",
            b"".join(parts),
        )
        intervals += len(values) * 2
    cur.close()
    return registers, intervals


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--consumers", type=int, default=100_000)
    parser.add_argument("--interval-meters", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--skip-engine", action="store_true", help="skip the synthetic-array figure")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import text

    from service import create_app
    from service.config import Config
    from service.extensions import db
    from service.masterdata.demo import seed_masterdata
    from service.queues import ALL_QUEUES, get_queue
    from service.readings import partitions
    from service.vee.bulk import compute_for_period, enqueue_pushes, publish_many
    from service.vee.determinant_jobs import chunks_of_period, consumers_in_range

    fresh = FreshDatabase("determinants")
    url = fresh.create()
    try:
        var = Path(tempfile.mkdtemp(prefix="cmdms-bench-"))
        app = create_app(
            Config(
                database_url=url, redis_url=redis_url(5), secret_key="bench", var_dir=var, amr_drop_dir=var
            )
        )
        with app.app_context():
            upgrade()
            session = db.session()
            t0 = time.perf_counter()
            seed_masterdata(session, consumers=args.consumers)
            replaced = _replace_meters(session, 0.01)
            for table in ("register_reads", "interval_readings"):
                months = partitions.months_between(
                    START.astype(object), (START + np.timedelta64(DAYS, "D")).astype(object)
                )
                partitions.ensure_partitions(session, table, months)
            session.commit()
            meter_ids = np.array(
                session.execute(
                    text(
                        "SELECT DISTINCT meter_id FROM installations WHERE consumer_id IS NOT NULL ORDER BY 1"
                    )
                )
                .scalars()
                .all(),
                dtype=np.int32,
            )
            raw = session.connection().connection.dbapi_connection
            registers, intervals = _readings(raw, meter_ids, min(args.interval_meters, len(meter_ids)))
            session.commit()
            raw.autocommit = True
            raw.cursor().execute("VACUUM ANALYZE")
            raw.autocommit = False
            db.session.remove()
            print(
                f"data: {args.consumers:,} consumers ({replaced:,} with a meter replaced mid-period),"
                f" {len(meter_ids):,} consumer meters; {registers:,} daily register reads,"
                f" {intervals:,} interval values ({min(args.interval_meters, len(meter_ids)):,} meters x 31 days"
                f" x 48, kWh + kVAh); generated in {time.perf_counter() - t0:.0f} s (not timed below)"
            )

            session = db.session()
            ranges = chunks_of_period(session, PERIOD, args.chunk)
            session.rollback()
            total = {"consumers": 0, "revisions": 0, "unchanged": 0}
            for run in ("first run (all new)", "second run (no change)"):
                t0 = time.perf_counter()
                compute_s = 0.0
                total = {"consumers": 0, "revisions": 0, "unchanged": 0}
                for first_id, last_id in ranges:
                    # run_chunk's steps, timed apart: set-based load + compute, then the writes.
                    t1 = time.perf_counter()
                    payloads = compute_for_period(
                        session, PERIOD, consumers_in_range(session, first_id, last_id)
                    )
                    compute_s += time.perf_counter() - t1
                    pushes, unchanged = publish_many(session, PERIOD, payloads)
                    session.commit()
                    enqueue_pushes(pushes)  # as the job does: the billing pushes onto RQ
                    summary = {"consumers": len(payloads), "revisions": len(pushes), "unchanged": unchanged}
                    total = {k: total[k] + summary[k] for k in total}
                took = time.perf_counter() - t0
                print(
                    f"determinants, database path, {run}: {total['consumers']:,} consumers in {len(ranges)} chunks:"
                    f" {took:.1f} s = load + compute {compute_s:.1f} s + revisions, outbox, commit, RQ"
                    f" {took - compute_s:.1f} s ({total['revisions']:,} new revisions, {total['unchanged']:,} unchanged)"
                )
            for q in ALL_QUEUES:
                get_queue(q).empty()
            db.session.remove()
            db.engine.dispose()
    finally:
        fresh.drop()
    if not args.skip_engine:
        from benchmarks.vee import bench_determinants

        d = bench_determinants(args.consumers, args.chunk)
        print(
            f"determinants engine alone (benchmarks/vee.py, synthetic arrays, {d['interval_rows']:,}"
            f" interval rows): {d['seconds']:.1f} s"
        )


if __name__ == "__main__":
    main()
