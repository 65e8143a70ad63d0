"""A storm of power-fail events through the outage stream: 2,000 DTs of 100 meters, half of each
DT's meters send a last gasp (IS 15959 101) within two minutes — 100,000 events, ingested in
time order in batches of 1,000 (one commit each, as a HES push would be), then the stream jobs
(durable_rules) run in a real RQ SimpleWorker. Figures: ingest, time from the last event
committed to every DT outage inferred, events/s through correlation; beside, in the same run, a
plain INSERT of the same events and the correlator alone in memory.
.venv/bin/python benchmarks/outages.py [--dts 2000] [--meters-per-dt 100] [--batch 1000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.benchdb import FreshDatabase, redis_url

STORM = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
NOW = STORM + timedelta(minutes=30)

_NETWORK = """
INSERT INTO feeders (code, name, voltage_kv, feeder_type, org_unit_id)
  SELECT 'BF' || lpad(f::text, 4, '0'), 'bench feeder', 11, 'urban', :org FROM generate_series(1, :feeders) f;
INSERT INTO dtrs (code, name, capacity_kva, org_unit_id)
  SELECT 'BD' || lpad(d::text, 5, '0'), 'bench DT', 250, :org FROM generate_series(1, :dts) d;
INSERT INTO dtr_feeder_links (dtr_id, feeder_id, valid_from)
  SELECT t.id, f.id, :since FROM dtrs t
  JOIN feeders f ON f.code = 'BF' || lpad((((substr(t.code, 3)::int - 1) / 20) + 1)::text, 4, '0')
  WHERE t.code LIKE 'BD%';
INSERT INTO consumers (ivrs_number, name, address, tariff_category, sanctioned_load, sanctioned_load_unit, phase,
    connection_type, supply_status, is_prepaid, is_net_metered, mobile, language, org_unit_id)
  SELECT 'BC' || lpad(c::text, 7, '0'), 'bench', '', 'LV1', 2, 'kW', 1, 'LT', 'connected', false, false, NULL, 'en', :org
  FROM generate_series(1, :consumers) c;
INSERT INTO consumer_supply_links (consumer_id, dtr_id, valid_from)
  SELECT c.id, t.id, :since FROM consumers c
  JOIN dtrs t ON t.code = 'BD' || lpad((((substr(c.ivrs_number, 3)::int - 1) / :per_dt) + 1)::text, 5, '0')
  WHERE c.ivrs_number LIKE 'BC%';
INSERT INTO meters (serial_number, make, meter_class, multiplying_factor, display_digits, is_dlms, communication, org_unit_id)
  SELECT 'BM' || lpad(c::text, 7, '0'), 'HPL', 'smart_1ph', 1, 6, true, 'rf', :org FROM generate_series(1, :consumers) c;
INSERT INTO installations (meter_id, consumer_id, installed_at, initial_kwh)
  SELECT m.id, c.id, :since, 0 FROM meters m JOIN consumers c ON substr(c.ivrs_number, 3) = substr(m.serial_number, 3)
  WHERE m.serial_number LIKE 'BM%';
"""


def storm(dts: int, per_dt: int, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """(meter serials, occurred epoch seconds) in time order: half of each DT's meters fail."""
    rng = np.random.default_rng(seed)
    half = per_dt // 2
    meters = (
        np.arange(dts)[:, None] * per_dt
        + rng.permuted(np.tile(np.arange(per_dt), (dts, 1)), axis=1)[:, :half]
        + 1
    )
    offsets = rng.integers(0, 120, size=meters.shape)
    order = np.argsort(offsets.ravel(), kind="stable")
    serials = np.array([f"BM{m:07d}" for m in meters.ravel()[order]], dtype=object)
    return serials, int(STORM.timestamp()) + offsets.ravel()[order]


def measure(dts: int, per_dt: int, batch_size: int) -> dict[str, float]:
    from flask_migrate import upgrade
    from rq import SimpleWorker
    from sqlalchemy import text

    from integrations.canonical import CanonicalBatch, Events
    from rules.correlation import Event, Network, StreamCorrelator
    from service import create_app
    from service.audit.log import Actor
    from service.config import Config
    from service.extensions import db
    from service.masterdata.demo import seed_masterdata
    from service.outages.detection import rule_set
    from service.queues import get_queue, redis_conn
    from service.readings.ingest import ingest_batch

    fresh = FreshDatabase("outages")
    url = fresh.create()
    figures: dict[str, float] = {}
    try:
        config = Config(
            database_url=url, redis_url=redis_url(), secret_key="bench", var_dir=Path(tempfile.mkdtemp())
        )
        app = create_app(config, clock=lambda: NOW)
        with app.app_context():
            upgrade()
            redis = redis_conn(app)
            redis.flushdb()
            session = db.session
            seed_masterdata(session(), consumers=20, seed=7)
            org = session.execute(text("SELECT id FROM org_units WHERE code = 'BPLC-D1'")).scalar_one()
            consumers = dts * per_dt
            started = time.perf_counter()
            for statement in _NETWORK.strip().split(";\n"):
                session.execute(text(statement), {"org": org, "feeders": max(1, dts // 20), "dts": dts,
                    "consumers": consumers, "per_dt": per_dt, "since": STORM - timedelta(days=30)})  # fmt: skip
            session.commit()
            print(
                f"network: {dts} DTs x {per_dt} meters in {time.perf_counter() - started:.1f} s", flush=True
            )
            serials, at = storm(dts, per_dt)
            n = len(serials)

            # Baseline: a plain INSERT of the same events (meter id, code, time), one commit per batch.
            ids = dict(
                session.execute(text("SELECT serial_number, id FROM meters WHERE serial_number LIKE 'BM%'"))
                .tuples()
                .all()
            )
            session.execute(
                text("CREATE TABLE bench_plain_events (meter_id int, code int, occurred_at timestamptz)")
            )
            session.commit()
            started = time.perf_counter()
            for lo in range(0, n, batch_size):
                rows = [
                    {"m": ids[s], "t": datetime.fromtimestamp(int(t), UTC)}
                    for s, t in zip(serials[lo : lo + batch_size], at[lo : lo + batch_size], strict=True)
                ]
                session.execute(text("INSERT INTO bench_plain_events VALUES (:m, 101, :t)"), rows)
                session.commit()
            figures["plain_insert_s"] = time.perf_counter() - started

            # The correlator alone, in memory, on the same events placed on their DTs.
            cs = rule_set()
            feeder_of = {d: f"BF{(d // 20) + 1:04d}" for d in range(dts)}
            events = [Event(int(s[2:]), 101, int(t), f"BD{((int(s[2:]) - 1) // per_dt) + 1:05d}",
                            feeder_of[(int(s[2:]) - 1) // per_dt]) for s, t in zip(serials, at, strict=True)]  # fmt: skip
            network = Network(
                {f"BD{d + 1:05d}": per_dt for d in range(dts)},
                dict.fromkeys(set(feeder_of.values()), 20 * per_dt),
            )
            started = time.perf_counter()
            correlator = StreamCorrelator(cs, network)
            for ev in events:  # posted, concluded once (what the stream does under a storm)
                correlator.post(ev)
            correlator.changes()
            figures["memory_s"] = time.perf_counter() - started
            figures["memory_dt_outages"] = sum(1 for c in correlator.conclusions() if c.scope == "dt")

            # The service path: ingest (commit per batch queues a stream job), then the worker.
            started = time.perf_counter()
            for lo in range(0, n, batch_size):
                chunk = slice(lo, lo + batch_size)
                k = len(serials[chunk])
                batch = CanonicalBatch(source="hes:BENCH", events=Events(
                    meter=serials[chunk], code=np.full(k, 101, np.int32), occurred_at=at[chunk].astype("datetime64[s]"),
                    restored_at=np.full(k, np.datetime64("NaT"), "datetime64[s]"), snapshot=[{} for _ in range(k)]))  # fmt: skip
                result = ingest_batch(session(), batch, actor=Actor("system", "bench"))
                assert not result.rejects, result.rejects[:3]
                session.commit()
            last_event = time.perf_counter()
            figures["ingest_s"] = last_event - started
            queue = get_queue("default", app)
            jobs = queue.count
            worker = SimpleWorker([queue], connection=redis)
            worker.work(burst=True)
            figures["inferred_s"] = time.perf_counter() - last_event
            session.remove()
            counts = dict(
                db.session.execute(text("SELECT level, count(*) FROM outages GROUP BY level")).tuples().all()
            )
            failed = queue.failed_job_registry.count
            figures |= {"events": n, "jobs": jobs, "failed_jobs": failed, "dt_outages": counts.get("dt", 0),
                        "other_outages": sum(v for k, v in counts.items() if k != "dt")}  # fmt: skip
            db.session.remove()
    finally:
        fresh.drop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dts", type=int, default=2000)
    parser.add_argument("--meters-per-dt", type=int, default=100)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    f = measure(args.dts, args.meters_per_dt, args.batch)
    n = f["events"]
    print(f"events {n:,.0f} in {f['jobs']:.0f} stream jobs ({f['failed_jobs']:.0f} failed)")
    print(
        f"DT outages inferred {f['dt_outages']:.0f} (in memory {f['memory_dt_outages']:.0f}), other {f['other_outages']:.0f}"
    )
    print(
        f"ingest (COPY + commit per batch)      {f['ingest_s']:8.2f} s  {n / f['ingest_s']:10,.0f} events/s"
    )
    print(
        f"last event -> all outages inferred    {f['inferred_s']:8.2f} s  {n / f['inferred_s']:10,.0f} events/s  (goal <= 60 s)"
    )
    print(
        f"baseline: plain INSERT, same batches  {f['plain_insert_s']:8.2f} s  {n / f['plain_insert_s']:10,.0f} events/s"
    )
    print(
        f"baseline: correlator alone in memory  {f['memory_s']:8.2f} s  {n / f['memory_s']:10,.0f} events/s"
    )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
