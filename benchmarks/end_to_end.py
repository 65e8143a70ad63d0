"""End to end: HTTP in -> stored -> validated, as a running instance does it, beside a raw COPY.

A fresh database (migrated), M meters in master data and an API key; a waitress server and N
RQ worker processes (`flask worker --queue vee`) on loopback. For each format (HES JSON, IEC
61968-9 MeterReadings), M meters x 96 intervals x 3 channels (kWh, kVAh, voltage) of one day
are posted by K client threads; the clock runs from the first POST until every batch is
`validated` and no value is `raw`. Printed beside, in the same run:

- a raw binary COPY of the same values into `interval_readings` (the ceiling);
- the sum of the kernels: parse + `ingest_batch` + the VEE job, run one after another in this
  process on the same values (what the pieces cost when nothing overlaps).

Goal: end to end at >= 50 % of the raw COPY with 2 workers on a 2-core machine.

    .venv/bin/python benchmarks/end_to_end.py [--meters 2000] [--clients 4] [--workers 2]
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.benchdb import FreshDatabase, redis_url
from integrations.cim.simulator import meter_readings_message
from integrations.hes.simulator import encode, readings_message
from integrations.simulation import SimDay, SimMeter, simulate_day

CHANNELS = ("kwh", "kvah", "voltage_r")
FIRST_DAY = date(2026, 11, 2)
SHAPES = ("domestic", "commercial", "industrial", "agricultural")
FAULT_EVERY = 100  # about 1 % of meter-days carry a spike or a zero run, so VEE has findings


def serials(meters: int) -> list[str]:
    return [f"E2E{i:07d}" for i in range(meters)]


def meter_days(meters: int, day: date) -> list[SimDay]:
    days = []
    for i, serial in enumerate(serials(meters)):
        faults: tuple[str, ...] = ()
        if i % FAULT_EVERY == 7:
            faults = (("spike",), ("zero_run",))[(i // FAULT_EVERY) % 2]
        sim = simulate_day(SimMeter(serial, shape=SHAPES[i % 4], faults=faults), day)
        sim.channels = {c: sim.channels[c] for c in CHANNELS}
        days.append(sim)
    return days


def hes_messages(days: Sequence[SimDay], per_message: int) -> list[bytes]:
    return [
        encode(readings_message(days[i : i + per_message], message_id=f"hes-{i}", profiles=("block_load",)))
        for i in range(0, len(days), per_message)
    ]


def cim_messages(days: Sequence[SimDay], per_message: int) -> list[bytes]:
    return [
        meter_readings_message(days[i : i + per_message], message_id=f"cim-{i}", registers=False)
        for i in range(0, len(days), per_message)
    ]


FORMATS: dict[str, tuple[str, str, Callable[[Sequence[SimDay], int], list[bytes]]]] = {
    "hes_json": ("/api/v1/hes/readings", "application/json", hes_messages),
    "cim_xml": ("/api/v1/cim/meter-readings", "application/xml", cim_messages),
}


# -- set-up ---------------------------------------------------------------------------------


def prepare(env: dict[str, str], meters: int) -> str:
    """Migrate, create the meters and a readings API key; return the key."""
    from flask_migrate import upgrade

    from service import create_app
    from service.audit.log import Actor
    from service.auth.api_keys import create_key
    from service.config import load_config
    from service.extensions import db

    app = create_app(load_config(env))
    with app.app_context():
        upgrade()
        raw = db.session.connection().connection.dbapi_connection
        with raw.cursor() as cur:
            cur.execute(
                "INSERT INTO org_units (code, name, level, path) VALUES ('E', 'E2E', 'discom', '/E/')"
                " RETURNING id"
            )
            org_id = cur.fetchone()[0]
            lines = "".join(f"{s}\tBench\tsmart_1ph\t{org_id}\t1\t6\tt\tcellular\n" for s in serials(meters))
            cur.copy_expert(
                "COPY meters (serial_number, make, meter_class, org_unit_id, multiplying_factor,"
                " display_digits, is_dlms, communication) FROM STDIN",
                io.StringIO(lines),
            )
        from datetime import UTC, datetime

        from service.readings import partitions

        months = partitions.months_between(
            datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
        )
        for table in ("interval_readings", "register_reads"):
            partitions.ensure_partitions(db.session(), table, months)
        from service.vee import rulebook

        rulebook.rule_sets(db.session())  # the rule files recorded once, before the clock runs
        _, key = create_key(db.session(), "bench-hes", ["readings:write"], Actor("system", "bench"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return key


def start_processes(
    env: dict[str, str], port: int, threads: int, workers: int, log_dir: str
) -> list[subprocess.Popen[bytes]]:
    server = (
        "from waitress import serve; from service import create_app;"
        f" serve(create_app(), host='127.0.0.1', port={port}, threads={threads}, _quiet=True)"
    )
    log = open(Path(log_dir) / "processes.log", "wb")  # noqa: SIM115 - lives as long as the children
    procs = [subprocess.Popen([sys.executable, "-c", server], env=env, cwd=ROOT, stdout=log, stderr=log)]
    worker = [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--queue", "vee", "--no-ticker"]
    procs += [subprocess.Popen(worker, env=env, cwd=ROOT, stdout=log, stderr=log) for _ in range(workers)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status < 500:
                return procs
        except (OSError, http.client.HTTPException):
            time.sleep(0.2)
    raise RuntimeError("the server did not come up")


def stop_processes(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


# -- measures -------------------------------------------------------------------------------


def raw_copy(url: str, days: Sequence[SimDay], meter_ids: dict[str, int]) -> tuple[float, int]:
    """Binary COPY of the same values straight into the partitions: seconds, values."""
    import psycopg2

    from service.readings.store import _HEADER, _TRAILER, binary_rows

    parts = [_HEADER]
    count = 0
    for channel in CHANNELS:
        ids = np.repeat([meter_ids[d.meter.serial] for d in days], [int(d.present.sum()) for d in days])
        ends = np.concatenate([d.utc_ends[d.present] for d in days])
        values = np.concatenate([d.channels[channel][d.present] for d in days])
        us = (ends - 946_684_800) * 1_000_000
        name = channel.encode()
        parts.append(
            binary_rows(
                [
                    (">i4", ids),
                    (f"S{len(name)}", name),
                    (">i8", us),
                    (">f8", values),
                    (">i2", 15),
                    ("S3", b"raw"),
                    ("S5", b"bench"),
                    (">i8", 0),
                ]  # fmt: skip
            )
        )
        count += len(ids)
    parts.append(_TRAILER)
    buffer = b"".join(parts)
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            started = time.perf_counter()
            cur.copy_expert(
                "COPY interval_readings (meter_id, channel, interval_end, value, interval_minutes, quality,"
                " source, batch_id) FROM STDIN WITH (FORMAT binary)",
                io.BytesIO(buffer),
            )
            conn.commit()
            took = time.perf_counter() - started
            cur.execute("TRUNCATE interval_readings")
            conn.commit()
    finally:
        conn.close()
    return took, count


def post_all(
    port: int, key: str, path: str, media: str, messages: list[bytes], clients: int
) -> tuple[float, int]:
    """K threads post the messages (each its own keep-alive connection): start time, values stored."""
    pending = list(reversed(messages))
    lock = threading.Lock()
    stored: list[int] = []
    errors: list[str] = []
    started: list[float] = []

    def client() -> None:
        import json

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": media}
        while True:
            with lock:
                if not pending:
                    return
                body = pending.pop()
                if not started:
                    started.append(time.perf_counter())
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            answer = response.read()
            if response.status != 200:
                errors.append(f"{response.status} {answer[:300]!r}")
                continue
            if media == "application/json":
                stored.append(int(json.loads(answer)["stored"]))
            else:  # a 61968-100 ResponseMessage: the values are counted in the store afterwards
                stored.append(-1)

    def guarded() -> None:
        try:
            client()
        except Exception as exc:  # noqa: BLE001 - reported below; a dead client must not leave the run waiting
            errors.append(repr(exc))

    threads = [threading.Thread(target=guarded) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed, first: {errors[0]}")
    if any(n < 0 for n in stored):
        return started[0], -1
    return started[0], sum(stored)


def count_values(url: str) -> int:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM interval_readings")
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def wait_validated(url: str, batches: int, timeout_s: float = 3600) -> float:
    """Poll until `batches` batches are validated and no interval value is raw: the time then."""
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    deadline = time.monotonic() + timeout_s
    try:
        with conn.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute(
                    "SELECT count(*) FILTER (WHERE status = 'validated'), count(*) FROM ingest_batches"
                )
                done, total = cur.fetchone()
                if total >= batches and done == total:
                    finished = time.perf_counter()
                    cur.execute("SELECT count(*) FROM interval_readings WHERE quality = 'raw'")
                    raw = cur.fetchone()[0]
                    if raw:
                        raise RuntimeError(f"{raw} values still raw after every batch was validated")
                    return finished
                time.sleep(0.05)
    finally:
        conn.close()
    raise RuntimeError("VEE did not finish in time")


def reset(url: str) -> None:
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("TRUNCATE interval_readings, register_reads, ingest_batches, vee_failures, vee_estimates,"
                    " reading_revisions, audit_log")  # fmt: skip
        cur.execute("VACUUM ANALYZE interval_readings")
    conn.close()


def kernels(env: dict[str, str], parse: Callable[[bytes], Any], messages: list[bytes]) -> dict[str, float]:
    """Parse, ingest and the VEE job one after another in this process: seconds of each."""
    from service import create_app
    from service.audit.log import Actor
    from service.config import load_config
    from service.extensions import db
    from service.readings import jobs
    from service.readings.ingest import ingest_batch

    app = create_app(load_config(env))
    took = {"parse": 0.0, "ingest": 0.0, "vee": 0.0}
    actor = Actor("system", "bench")
    with app.app_context():
        for message in messages:
            t0 = time.perf_counter()
            batch = parse(message)
            t1 = time.perf_counter()
            session = db.session()
            # Stored and committed without the after-commit enqueue: the VEE job is run here.
            result = ingest_batch(session, batch, actor=actor)
            session.info.clear()
            session.commit()
            t2 = time.perf_counter()
            assert jobs.batch_stored(result.batch_id) == "validated"
            t3 = time.perf_counter()
            took["parse"] += t1 - t0
            took["ingest"] += t2 - t1
            took["vee"] += t3 - t2
        db.session.remove()
        db.engine.dispose()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meters", type=int, default=2000)
    parser.add_argument("--per-message", type=int, default=200, help="meters per POST")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=18_765)
    parser.add_argument("--formats", default="hes_json,cim_xml")
    args = parser.parse_args()

    from redis import Redis

    from integrations.cim.meter_readings import parse_meter_readings
    from integrations.hes.json_push import parse_readings

    parsers = {"hes_json": parse_readings, "cim_xml": parse_meter_readings}
    # Stopped from outside: still stop the server and workers and drop the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    fresh = FreshDatabase("e2e")
    url = fresh.create()
    rurl = redis_url()
    Redis.from_url(rurl).flushdb()
    var = tempfile.mkdtemp(prefix="cmdms-e2e-")
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": rurl, "CMDMS_VAR_DIR": var}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        key = prepare(env, args.meters)
        import psycopg2

        conn = psycopg2.connect(url)
        with conn.cursor() as cur:
            cur.execute("SELECT serial_number, id FROM meters")
            meter_ids = dict(cur.fetchall())
        conn.close()
        print(
            f"{args.meters:,} meters x 96 intervals x {len(CHANNELS)} channels, {args.per_message} meters a POST,"
            f" {args.clients} clients, {args.workers} VEE workers, load {os.getloadavg()[0]:.1f}"
        )
        procs = start_processes(env, args.port, max(args.clients, 4), args.workers, var)
        for n, name in enumerate(args.formats.split(",")):
            path, media, build = FORMATS[name]
            days = meter_days(args.meters, FIRST_DAY + timedelta(days=3 * n))
            messages = build(days, args.per_message)
            reset(url)
            copy_s, values = raw_copy(url, days, meter_ids)
            copy_rate = values / copy_s
            reset(url)
            began, stored = post_all(args.port, key, path, media, messages, args.clients)
            posted = time.perf_counter()
            finished = wait_validated(url, len(messages))
            if stored < 0:
                stored = count_values(url)
            assert stored == values, (stored, values)
            e2e = finished - began
            print(f"[{name}] {values:,} values")
            print(
                f"  {'raw binary COPY of the same values':<44} {copy_s:7.2f} s {copy_rate:>11,.0f} values/s"
            )
            print(
                f"  {'end to end (first POST -> all validated)':<44} {e2e:7.2f} s {values / e2e:>11,.0f} values/s"
                f"  {values / e2e / copy_rate:6.1%} of COPY  (all answered after {posted - began:.2f} s)"
            )
            reset(url)
            other = meter_days(args.meters, FIRST_DAY + timedelta(days=3 * n + 1))
            took = kernels(env, parsers[name], build(other, args.per_message))
            total = sum(took.values())
            parts = ", ".join(f"{k} {v:.2f} s" for k, v in took.items())
            print(
                f"  {'sum of kernels, serial in one process':<44} {total:7.2f} s {values / total:>11,.0f} values/s"
                f"  {values / total / copy_rate:6.1%} of COPY  ({parts})"
            )
    finally:
        stop_processes(procs)
        fresh.drop()


if __name__ == "__main__":
    main()
