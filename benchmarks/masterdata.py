"""Master-data upsert rate: 10,000 consumers through POST /api/v1/masterdata/consumers.

Three passes through the real endpoint (Flask test client, real PostgreSQL): first load,
idempotent repeat, and a change to every row. Beside them, the same rows written by a raw
`INSERT ... ON CONFLICT DO UPDATE` (psycopg2 execute_values) into a copy of the table, which is
what the database alone costs, with no validation, diffing, links or audit.

    .venv/bin/python benchmarks/masterdata.py [--consumers 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2.extras import execute_values

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.benchdb import FreshDatabase, redis_url


def _rows(n: int, dtrs: list[str], orgs: list[str], seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "ivrs_number": f"B{5_000_000_000 + i:010d}",
            "name": f"Consumer {i}",
            "address": f"H.No. {rng.randrange(1, 400)}, Kolar Road, Bhopal",
            "mobile": f"9{rng.randrange(100_000_000, 999_999_999)}",
            "language": rng.choice(("hi", "en")),
            "connection_date": "2015-06-01",
            "tariff_category": rng.choice(("LV1", "LV1", "LV1", "LV2", "LV5")),
            "sanctioned_load": f"{rng.uniform(1, 10):.1f}",
            "phase": rng.choice((1, 3)),
            "supply_status": "connected",
            "is_prepaid": rng.random() < 0.2,
            "org_unit_code": rng.choice(orgs),
            "dtr_code": rng.choice(dtrs),
            "effective_from": "2024-04-01T00:00:00+05:30",
        }
        for i in range(n)
    ]


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _baseline(url: str, rows: list[dict[str, Any]], org_ids: dict[str, int]) -> tuple[float, float]:
    """Seconds for a raw first load and a raw repeat of the same rows into a copy of consumers."""
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS baseline_consumers")
        cur.execute("CREATE TABLE baseline_consumers (LIKE consumers INCLUDING ALL)")
    conn.commit()
    columns = [
        "ivrs_number",
        "name",
        "address",
        "mobile",
        "language",
        "connection_date",
        "tariff_category",
        "sanctioned_load",
        "phase",
        "supply_status",
        "is_prepaid",
        "sanctioned_load_unit",
        "connection_type",
        "is_net_metered",
        "org_unit_id",
    ]
    values = [
        tuple(r[c] for c in columns[:-4]) + ("kW", "LT", False, org_ids[r["org_unit_code"]]) for r in rows
    ]  # fmt: skip
    sql = (
        f"INSERT INTO baseline_consumers ({', '.join(columns)}) VALUES %s "
        f"ON CONFLICT (ivrs_number) DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[1:])
    )

    def load() -> None:
        with conn.cursor() as cur:
            execute_values(cur, sql, values, page_size=1000)
        conn.commit()

    first, _ = _timed(load)
    repeat, _ = _timed(load)
    conn.close()
    return first, repeat


def _run_once(n: int) -> dict[str, float]:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from service import create_app
    from service.audit.log import Actor
    from service.auth.api_keys import create_key
    from service.config import Config
    from service.demo.seed import seed_demo
    from service.extensions import db
    from service.masterdata.models import Dtr, OrgUnit

    fresh = FreshDatabase("masterdata")
    url = fresh.create()
    try:
        with tempfile.TemporaryDirectory() as var:
            config = Config(database_url=url, redis_url=redis_url(9), testing=True, var_dir=Path(var))
            app = create_app(config)
            with app.app_context():
                upgrade()
                seed_demo(db.session(), consumers=200, seed=3)
                _, raw = create_key(db.session(), "billing", ["masterdata:write"], Actor("cli", "bench"))
                db.session.commit()
                dtrs = list(db.session.scalars(select(Dtr.code)))
                org_ids = dict(db.session.execute(select(OrgUnit.code, OrgUnit.id).where(OrgUnit.level == "dc")).all())  # fmt: skip
                db.session.remove()
            rows = _rows(n, dtrs, sorted(org_ids))
            changed = [{**r, "sanctioned_load": "12.5", "dtr_code": dtrs[0], "effective_from": "2025-01-01"} for r in rows]  # fmt: skip
            client = app.test_client()
            headers = {"Authorization": f"Bearer {raw}"}

            def post(batch: list[dict[str, Any]]) -> dict[str, Any]:
                response = client.post("/api/v1/masterdata/consumers", json=batch, headers=headers)
                assert response.status_code == 200, response.get_data(as_text=True)[:500]
                return response.get_json()

            first, r1 = _timed(lambda: post(rows))
            repeat, r2 = _timed(lambda: post(rows))
            update, r3 = _timed(lambda: post(changed))
            assert (r1["created"], r2["unchanged"], r3["updated"]) == (n, n, n), (r1, r2, r3)
            base_first, base_repeat = _baseline(url, rows, org_ids)
            with app.app_context():
                db.engine.dispose()
    finally:
        fresh.drop()
    return {
        "api first load": first,
        "api idempotent repeat": repeat,
        "api change every row": update,
        "baseline INSERT ON CONFLICT, first": base_first,
        "baseline INSERT ON CONFLICT, repeat": base_repeat,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--consumers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="fresh database per run; medians shown")
    args = parser.parse_args()
    runs = [_run_once(args.consumers) for _ in range(args.runs)]
    medians = {case: statistics.median(r[case] for r in runs) for case in runs[0]}
    base = medians["baseline INSERT ON CONFLICT, first"]
    print(f"\nmaster-data upsert, {args.consumers} consumers, median of {args.runs} runs")
    print(f"{'case':<38} {'seconds':>8} {'rows/s':>10} {'x baseline':>11}")
    for case, seconds in medians.items():
        rate = args.consumers / seconds
        print(f"{case:<38} {seconds:>8.3f} {rate:>10,.0f} {seconds / base:>10.1f}x")


if __name__ == "__main__":
    main()
