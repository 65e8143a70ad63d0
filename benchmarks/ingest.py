"""Ingest benchmark: a day of 15-min kWh for N meters, raw COPY vs our canonical-batch ingest.

One run, one fresh database: (1) raw binary COPY of the rows into the partitioned
`interval_readings` (the ceiling), (2) `ingest_batch` in batches of 1,000 meters, each its
own transaction (as HES pushes arrive), (3) the same with 10,000-meter batches, (4) re-delivery
of some batches (every key exists: the unchanged path), then parser rates from
benchmarks/parse_rates.py when it exists. Goal: (2) >= 50 % of (1).

    .venv/bin/python benchmarks/ingest.py [--meters 100000] [--batch-meters 1000]
"""

from __future__ import annotations

import argparse
import gc
import io
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.benchdb import FreshDatabase
from integrations.canonical import CanonicalBatch, Intervals

DAY = np.datetime64("2026-10-04T18:30:00", "s")  # 5 Oct 2026 00:00 IST
INTERVALS_PER_DAY = 96


def _serials(first: int, count: int) -> list[str]:
    return [f"BM{n:08d}" for n in range(first, first + count)]


def make_batch(first_meter: int, meters: int, rng: np.random.Generator) -> CanonicalBatch:
    """`meters` meters x 96 intervals, meter by meter as a HES profile push lists them."""
    n = meters * INTERVALS_PER_DAY
    ends = DAY + np.timedelta64(15, "m") * np.tile(np.arange(1, INTERVALS_PER_DAY + 1), meters)
    return CanonicalBatch(
        source="hes:BENCH",
        message_id=f"bench-{first_meter}",
        intervals=Intervals(
            meter=np.repeat(np.array(_serials(first_meter, meters), dtype=object), INTERVALS_PER_DAY),
            channel=np.full(n, "kwh", dtype=object),
            interval_end=ends.astype("datetime64[s]"),
            value=np.round(rng.gamma(2.0, 0.05, n), 3),
            interval_minutes=np.full(n, 15, dtype=np.int16),
        ),
    )


def _create_meters(raw_conn: Any, meters: int) -> None:
    with raw_conn.cursor() as cur:
        cur.execute(
            "INSERT INTO org_units (code, name, level, path) VALUES ('B', 'Bench', 'discom', '/B/') RETURNING id"
        )
        org_id = cur.fetchone()[0]
        lines = "".join(f"{s}\tBench\tsmart_1ph\t{org_id}\t1\t6\tt\tcellular\n" for s in _serials(0, meters))
        cur.copy_expert(
            "COPY meters (serial_number, make, meter_class, org_unit_id, multiplying_factor, display_digits,"
            " is_dlms, communication) FROM STDIN",
            io.StringIO(lines),
        )
    raw_conn.commit()


def raw_copy(url: str, meters: int, meter_ids: np.ndarray, rng: np.random.Generator) -> float:
    """Binary COPY (psycopg 3) of the same rows straight into the table: seconds taken."""
    import psycopg

    from service.readings.store import timestamps_us

    n = meters * INTERVALS_PER_DAY
    ends = DAY + np.timedelta64(15, "m") * np.tile(np.arange(1, INTERVALS_PER_DAY + 1), meters)
    fields = [
        ("n", ">i2"),
        ("l0", ">i4"), ("meter_id", ">i4"),
        ("l1", ">i4"), ("channel", "S3"),
        ("l2", ">i4"), ("interval_end", ">i8"),
        ("l3", ">i4"), ("value", ">f8"),
        ("l4", ">i4"), ("interval_minutes", ">i2"),
        ("l5", ">i4"), ("quality", "S3"),
        ("l6", ">i4"), ("source", "S9"),
        ("l7", ">i4"), ("batch_id", ">i8"),
    ]  # fmt: skip
    rows = np.empty(n, dtype=np.dtype(fields))
    rows["n"] = 8
    for i, (_column, width) in enumerate([("meter_id", 4), ("channel", 3), ("interval_end", 8), ("value", 8),
                                       ("interval_minutes", 2), ("quality", 3), ("source", 9), ("batch_id", 8)]):  # fmt: skip
        rows[f"l{i}"] = width
    rows["meter_id"] = np.repeat(meter_ids, INTERVALS_PER_DAY)
    rows["channel"] = b"kwh"
    rows["interval_end"] = timestamps_us(ends)
    rows["value"] = np.round(rng.gamma(2.0, 0.05, n), 3)
    rows["interval_minutes"] = 15
    rows["quality"] = b"raw"
    rows["source"] = b"hes:BENCH"
    rows["batch_id"] = 0
    buffer = b"PGCOPY\n\xff\r\n\x00" + bytes(8) + rows.tobytes() + b"\xff\xff"
    del rows
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY interval_readings (meter_id, channel, interval_end, value, interval_minutes, quality,"
                " source, batch_id) FROM STDIN WITH (FORMAT binary)"
            ) as copy,
        ):
            view = memoryview(buffer)
            for start in range(0, len(buffer), 8 << 20):
                copy.write(view[start : start + (8 << 20)])
        conn.commit()
        return time.perf_counter() - started


def our_ingest(
    engine: Any, meters: int, batch_meters: int, rng: np.random.Generator
) -> tuple[float, dict[str, int]]:
    """ingest_batch per `batch_meters` meters, one transaction each: seconds in ingest + commit."""
    from sqlalchemy.orm import Session

    from service.audit.log import Actor
    from service.readings.ingest import ingest_batch

    actor = Actor("system", "bench")
    took, totals = 0.0, {"stored": 0, "unchanged": 0, "revised": 0, "quarantined": 0, "rejected": 0}
    with Session(engine) as session:
        for start in range(0, meters, batch_meters):
            batch = make_batch(start, min(batch_meters, meters - start), rng)
            began = time.perf_counter()
            result = ingest_batch(session, batch, actor=actor)
            session.commit()
            took += time.perf_counter() - began
            for key in totals:
                totals[key] += getattr(result, key)
    return took, totals


def _reset(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE interval_readings, ingest_batches, audit_log")
        conn.execute("VACUUM ANALYZE interval_readings")
        conn.execute("CHECKPOINT")


def _parsers() -> None:
    try:
        from benchmarks.parse_rates import measure_parsers  # type: ignore[import-not-found]
    except ImportError:
        print("parsers: not yet available")
        return
    figures = measure_parsers()
    if isinstance(figures, dict):
        for name, rate in figures.items():
            print(f"parser {name:<28} {rate}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meters", type=int, default=100_000)
    parser.add_argument("--batch-meters", type=int, default=1_000)
    parser.add_argument("--redeliver-meters", type=int, default=10_000)
    parser.add_argument("--skip-parsers", action="store_true")
    args = parser.parse_args()

    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from service.audit.models import AuditEntry
    from service.extensions import db
    from service.masterdata.models import Meter, OrgUnit
    from service.readings import models, partitions

    fresh = FreshDatabase("ingest")
    url = fresh.create()
    values = args.meters * INTERVALS_PER_DAY
    try:
        # The store's own tables from its models (which match migration 0002), without the
        # web app: the figures are of the store alone.
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
        tables = [OrgUnit, Meter, AuditEntry, models.IngestBatch, models.IntervalReading,
                  models.ReadingRevision, models.QuarantinedReadings]  # fmt: skip
        db.metadata.create_all(engine, tables=[t.__table__ for t in tables])
        session = Session(engine)
        months = partitions.months_between(DAY.astype(object), (DAY + np.timedelta64(1, "D")).astype(object))
        partitions.ensure_partitions(session, "interval_readings", months)
        session.commit()
        _create_meters(session.connection().connection.dbapi_connection, args.meters)
        session.commit()
        meter_ids = np.array(
            session.execute(text("SELECT id FROM meters ORDER BY serial_number")).scalars().all(), np.int32
        )
        session.close()
        print(f"{args.meters:,} meters x {INTERVALS_PER_DAY} intervals = {values:,} values, one channel")

        rng = np.random.default_rng(7)
        gc.collect()
        copy_s = raw_copy(url, args.meters, meter_ids, rng)
        copy_rate = values / copy_s
        print(
            f"{'raw binary COPY (psycopg 3, one statement)':<45} {copy_s:7.2f} s  {copy_rate:12,.0f} values/s"
        )

        for batch_meters in (args.batch_meters, args.batch_meters * 10):
            _reset(url)
            gc.collect()
            took, totals = our_ingest(engine, args.meters, batch_meters, rng)
            assert totals["stored"] == values, totals
            rate = values / took
            label = f"ingest_batch, {batch_meters:,} meters/batch"
            print(f"{label:<45} {took:7.2f} s  {rate:12,.0f} values/s  {rate / copy_rate:6.1%} of raw COPY")

        redeliver = min(args.redeliver_meters, args.meters)
        took, totals = our_ingest(engine, redeliver, args.batch_meters, rng)
        assert totals["revised"] + totals["unchanged"] == redeliver * INTERVALS_PER_DAY, totals
        rate = redeliver * INTERVALS_PER_DAY / took
        label = "re-delivery, new values (revisions)"
        print(f"{label:<45} {took:7.2f} s  {rate:12,.0f} values/s  {rate / copy_rate:6.1%} of raw COPY")
        our_ingest(engine, redeliver, args.batch_meters, np.random.default_rng(0))  # known values ...
        took, totals = our_ingest(engine, redeliver, args.batch_meters, np.random.default_rng(0))  # ... again
        assert totals["unchanged"] == redeliver * INTERVALS_PER_DAY, totals
        rate = redeliver * INTERVALS_PER_DAY / took
        label = "re-delivery, same values (unchanged)"
        print(f"{label:<45} {took:7.2f} s  {rate:12,.0f} values/s  {rate / copy_rate:6.1%} of raw COPY")
        engine.dispose()
        if not args.skip_parsers:
            _parsers()
    finally:
        fresh.drop()


if __name__ == "__main__":
    main()
