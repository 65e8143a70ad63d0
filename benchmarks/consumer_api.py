"""The consumer app's consumption endpoints under load: 100,000 consumers of data, a real waitress
server (one process, 8 threads) on loopback, an open-loop load generator at a fixed rate.

A fresh database gets the demo discom's master data (`seed_masterdata(N)`), `--days` days of
daily aggregates (`agg_meter_day`) for every interval meter installed on a consumer and two years
of monthly reads (`agg_scalar_read`) for every scalar one, and a signed-in token for `--tokens`
consumers chosen at random — all set-based, untimed. Then, each for `--seconds` at `--rate`
requests/s (requests are due at fixed times; a latency counts from when the request was due,
so a slow server cannot hide its backlog):

1. baseline: `GET /api/v1/consumer/me` with the same tokens (token look-up, rate limits, JSON:
   everything but the consumption), same server, same generator. (`/healthz` was tried first:
   its migration check makes it slower than the endpoints under test — 23 req/s here.)
2. uncached: the five consumption endpoints (`/consumption` and the four reports), a random
   token and endpoint per request, the answer cache emptied first;
3. cached: the very same request sequence again (answers from the cache).

    .venv/bin/python benchmarks/consumer_api.py [--consumers 100000] [--rate 200] [--seconds 20] [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import queue
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.benchdb import FreshDatabase, redis_url

ENDPOINTS = ("consumption", "reports/last_7_days", "reports/last_4_weeks", "reports/last_6_months",
             "reports/last_2_years")  # fmt: skip
REDIS_DB = 6


def _config(url: str, var: Path) -> Any:
    from service.config import Config

    return Config(
        database_url=url, redis_url=redis_url(REDIS_DB), secret_key="bench", var_dir=var, amr_drop_dir=var
    )


def _serve(url: str, var: str, port: int, threads: int) -> None:
    """The server process: the app as production builds it, served by waitress."""
    import logging

    from waitress import serve

    from service import create_app
    from service.consumers.app_limits import EXTENSION_KEY, Limits

    app = create_app(_config(url, Path(var)))
    # All the load comes from one loopback address: the per-address limit would stop it at
    # 600/min; the per-token limit (each token sends a few requests a minute) stays in force.
    app.extensions[EXTENSION_KEY] = Limits(per_address=10**9)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a backlog shows in the latencies
    serve(app, host="127.0.0.1", port=port, threads=threads, _quiet=True)


def _seed(url: str, var: Path, consumers: int, days: int, tokens: int) -> list[tuple[str, str]]:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from service import create_app
    from service.extensions import db
    from service.masterdata.demo import seed_masterdata

    app = create_app(_config(url, var))
    with app.app_context():
        upgrade()
        session = db.session()
        base = min(consumers, 2_000)
        seed_masterdata(session, consumers=base)
        session.commit()
        _multiply(session, -(-consumers // base))
        today = "(now() AT TIME ZONE 'Asia/Kolkata')::date"
        meter_days = session.execute(
            text(
                "INSERT INTO agg_meter_day (meter_id, day, org_unit_id, meter_class, kwh_import, kwh_export,"
                " kvah_import, kwh_by_zone, kvah_by_zone, interval_minutes, intervals, expected_intervals,"
                " valid_count, estimated_count, edited_count, failed_count, suspect_count, raw_count,"
                " estimated_share)"
                " SELECT m.id, d::date, m.org_unit_id, m.meter_class, 4 + (m.id % 13) * 0.5 + extract(dow FROM d),"
                " 0, 5 + (m.id % 13) * 0.5, ARRAY[1, 1.5, 2, 1]::float8[], ARRAY[1, 2, 2, 1]::float8[], 30, 48, 48,"
                " 48, 0, 0, 0, 0, 0, 0"
                " FROM installations i JOIN meters m ON m.id = i.meter_id"
                f" CROSS JOIN generate_series({today} - :days + 1, {today}, interval '1 day') d"
                " WHERE i.consumer_id IS NOT NULL AND i.removed_at IS NULL AND m.meter_class <> 'scalar'"
            ),
            {"days": days},
        ).rowcount  # type: ignore[attr-defined]
        scalar_reads = session.execute(
            text(
                "INSERT INTO agg_scalar_read (meter_id, read_at, month, org_unit_id, reading_kwh, previous_at,"
                " consumption_kwh, reading_status, quality)"
                " SELECT m.id, t.at, date_trunc('month', t.at AT TIME ZONE 'Asia/Kolkata')::date, m.org_unit_id,"
                " 1000 + t.n * (100 + m.id % 50), t.at - interval '1 month', 100 + m.id % 50, 'normal', 'valid'"
                " FROM installations i JOIN meters m ON m.id = i.meter_id"
                f" CROSS JOIN LATERAL (SELECT n, (date_trunc('month', {today}) - make_interval(months => n)"
                " + interval '4 days 6 hours')::timestamptz AS at FROM generate_series(0, 23) n) t"
                " WHERE i.consumer_id IS NOT NULL AND i.removed_at IS NULL AND m.meter_class = 'scalar'"
                " AND t.at > i.installed_at ON CONFLICT DO NOTHING"
            )
        ).rowcount  # type: ignore[attr-defined]
        signed = session.execute(
            text(
                "INSERT INTO consumer_app_tokens (consumer_id, token_hash, created_at, expires_at)"
                " SELECT id, encode(sha256(convert_to('cat_bench' || id, 'UTF8')), 'hex'), now(),"
                " now() + interval '6 hours' FROM consumers ORDER BY random() LIMIT :n"
                " RETURNING (SELECT ivrs_number FROM consumers c WHERE c.id = consumer_id), 'cat_bench' || consumer_id"
            ),
            {"n": tokens},
        ).all()
        session.commit()
        raw = session.connection().connection.dbapi_connection
        raw.autocommit = True
        raw.cursor().execute("VACUUM ANALYZE")
        raw.autocommit = False
        consumers = session.execute(text("SELECT count(*) FROM consumers")).scalar_one()
        print(f"data: {consumers:,} consumers; {meter_days:,} meter-days ({days} days of every interval meter),"
              f" {scalar_reads:,} monthly scalar reads (24 months); {len(signed):,} signed-in tokens")  # fmt: skip
        db.session.remove()
        db.engine.dispose()
    return [(str(ivrs), str(token)) for ivrs, token in signed]


def _columns(session: Any, table: str) -> list[str]:
    from sqlalchemy import text

    return list(
        session.execute(
            text("SELECT column_name FROM information_schema.columns WHERE table_name = :t AND column_name <> 'id'"
                 " ORDER BY ordinal_position"),
            {"t": table},
        ).scalars()
    )  # fmt: skip


def _multiply(session: Any, copies: int) -> None:
    """The demo's consumers, their meters, installations and supply links copied `copies - 1`
    times in four INSERT … SELECT statements (the demo seeder is row by row: 100,000 consumers
    take it many minutes). Copy k's IVRS numbers and serials end in "-k"."""
    from sqlalchemy import text

    if copies <= 1:
        return

    def copy_sql(table: str, key: str, where: str) -> str:
        cols = _columns(session, table)
        picked = ", ".join(f"{c} || '-' || k" if c == key else c for c in cols)
        return (f"INSERT INTO {table} ({', '.join(cols)}) SELECT {picked} FROM {table}"
                f" CROSS JOIN generate_series(2, :copies) k WHERE {where}")  # fmt: skip

    n = {"copies": copies}
    session.execute(text(copy_sql("consumers", "ivrs_number", "true")), n)
    session.execute(
        text(copy_sql("meters", "serial_number",
                      "id IN (SELECT meter_id FROM installations WHERE consumer_id IS NOT NULL)")), n
    )  # fmt: skip
    inst = [c for c in _columns(session, "installations") if c not in ("meter_id", "consumer_id")]
    session.execute(
        text(
            f"INSERT INTO installations (meter_id, consumer_id, {', '.join(inst)})"
            f" SELECT nm.id, nc.id, {', '.join('i.' + c for c in inst)} FROM installations i"
            " JOIN meters m ON m.id = i.meter_id JOIN consumers c ON c.id = i.consumer_id"
            " CROSS JOIN generate_series(2, :copies) k"
            " JOIN meters nm ON nm.serial_number = m.serial_number || '-' || k"
            " JOIN consumers nc ON nc.ivrs_number = c.ivrs_number || '-' || k"
        ),
        n,
    )
    link = [c for c in _columns(session, "consumer_supply_links") if c != "consumer_id"]
    session.execute(
        text(
            f"INSERT INTO consumer_supply_links (consumer_id, {', '.join(link)})"
            f" SELECT nc.id, {', '.join('l.' + c for c in link)} FROM consumer_supply_links l"
            " JOIN consumers c ON c.id = l.consumer_id CROSS JOIN generate_series(2, :copies) k"
            " JOIN consumers nc ON nc.ivrs_number = c.ivrs_number || '-' || k"
        ),
        n,
    )
    session.commit()


@dataclass
class Run:
    latencies_ms: list[float]
    statuses: dict[int, int]
    cache_hits: int
    seconds: float

    def line(self, label: str) -> str:
        q = statistics.quantiles(self.latencies_ms, n=100)
        done = len(self.latencies_ms)
        return (f"{label:<34} {done:>6,} req {done / self.seconds:7.1f} req/s   p50 {q[49]:7.1f} ms   p95 {q[94]:7.1f} ms"
                f"   p99 {q[98]:7.1f} ms   max {max(self.latencies_ms):7.1f} ms   statuses {dict(sorted(self.statuses.items()))}"
                f"   cache hits {self.cache_hits:,}")  # fmt: skip


def _load(port: int, requests: list[tuple[str, dict[str, str]]], rate: float, clients: int) -> Run:
    """Open loop: request i is due at start + i/rate; `clients` threads with kept-alive connections."""
    due: queue.Queue[tuple[float, str, dict[str, str]] | None] = queue.Queue()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    hits = [0]
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while (item := due.get()) is not None:
            at, path, headers = item
            pause = at - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            took = (time.perf_counter() - at) * 1000
            with lock:
                latencies.append(took)
                statuses[response.status] = statuses.get(response.status, 0) + 1
                hits[0] += response.getheader("X-Cache") == "hit"
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    start = time.perf_counter() + 0.2
    for i, (path, headers) in enumerate(requests):
        due.put((start + i / rate, path, headers))
    for _ in threads:
        due.put(None)
    for t in threads:
        t.join()
    return Run(latencies, statuses, hits[0], time.perf_counter() - start)


def _wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--consumers", type=int, default=100_000)
    parser.add_argument(
        "--days", type=int, default=60, help="days of meter-day aggregates per interval meter"
    )
    parser.add_argument(
        "--tokens", type=int, default=5_000, help="signed-in consumers the load is spread over"
    )
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each run")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--clients", type=int, default=32, help="load generator threads")
    parser.add_argument("--quick", action="store_true", help="5,000 consumers, 10 s runs")
    args = parser.parse_args()
    if args.quick:
        args.consumers, args.tokens, args.seconds = 5_000, 1_000, 10.0

    from redis import Redis

    fresh = FreshDatabase("consumer_api")
    url = fresh.create()
    server = None
    try:
        var = Path(tempfile.mkdtemp(prefix="cmdms-bench-"))
        t0 = time.perf_counter()
        signed = _seed(url, var, args.consumers, args.days, args.tokens)
        print(f"generated in {time.perf_counter() - t0:.0f} s (not timed below)")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(url, str(var), port, args.threads), daemon=True
        )
        server.start()
        _wait_for(port)
        rng = random.Random(16)
        n = int(args.rate * args.seconds)
        health, requests = [], []
        for _ in range(n):
            ivrs, token = rng.choice(signed)
            auth = {"Authorization": f"Bearer {token}"}
            health.append(("/api/v1/consumer/me", auth))
            requests.append((f"/api/v1/consumer/{ivrs}/{rng.choice(ENDPOINTS)}", auth))
        _load(port, health[: int(args.rate * 2)], args.rate, args.clients)  # warm-up: connections, pools
        Redis.from_url(redis_url(REDIS_DB)).flushdb()
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.rate:.0f} req/s for"
              f" {args.seconds:.0f} s each, waitress {args.threads} threads, {args.clients} client threads")  # fmt: skip
        baseline = _load(port, health, args.rate, args.clients)
        print(baseline.line("baseline GET /api/v1/consumer/me"), flush=True)
        cold = _load(port, requests, args.rate, args.clients)
        print(cold.line("consumption endpoints, uncached"), flush=True)
        warm = _load(port, requests, args.rate, args.clients)
        print(warm.line("consumption endpoints, cached"))
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        p95 = statistics.quantiles(cold.latencies_ms, n=100)[94]
        print(
            f"goal p95 < 50 ms at {args.rate:.0f} req/s (uncached): {'met' if p95 < 50 else 'NOT met'} ({p95:.1f} ms)"
        )
    finally:
        if server is not None:
            server.terminate()
            server.join(timeout=10)
        fresh.drop()


if __name__ == "__main__":
    main()
