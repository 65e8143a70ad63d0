"""Revenue-protection analytics for 100,000 consumers over a month: load + every rule + cases.

A fresh benchmark database (all migrations) gets a small demo discom (`seed_masterdata(40)`: org
units, users, the ATR workflow's groups) and the generated discom of the analytics tests
(`tests/revenue/population.py`): N consumers on DTs of 25 on feeders of 20 DTs, 28 days of
history and a month of daily meter-days (kWh by TOD zone, 2 % missing), DT input days, 3 % of
consumers with short magnet events, and the five planted theft patterns — all untimed. Then the
work of `service.revenue.analytics.analyse` (what `flask revenue analyse` and the daily job run)
is timed step by step: the set-based load of the population (master data, meter-days, tamper
events, DT days), each rule of `rules/revenue/analytics.yaml`, and the cases (open, evidence,
one `atr_case` process each, audit) with the commit. A second run over the same month (every
finding already on its case) is timed too. Baseline in the same run: a binary `COPY ... TO
STDOUT` of the same window's meter-day columns, the bare cost of reading the data.

    .venv/bin/python benchmarks/atr.py [--consumers 100000] [--quick]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.benchdb import FreshDatabase, redis_url

MONTH_FIRST, MONTH_LAST = date(2026, 10, 1), date(2026, 10, 31)
SINCE = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
GOAL_SECONDS = 300.0


def _plant(g: object) -> None:
    from tests.revenue import population as gen

    month = g.month_from  # type: ignore[attr-defined]
    gen.plant_bypass_after_cover_open(g, 5, month + 6)  # type: ignore[arg-type]
    gen.plant_dt_diversion(g, 7)  # type: ignore[arg-type]
    gen.plant_shape_to_neighbours_fraction(g, int(np.flatnonzero(g.dt == 11)[1]))  # type: ignore[arg-type,attr-defined]
    gen.plant_persistent_magnet(g, 40, month + 3)  # type: ignore[arg-type]
    gen.plant_zero_while_neighbours_consume(g, 77)  # type: ignore[arg-type]


def _baseline_copy(session: object, first: date, last: date) -> tuple[float, int]:
    """The window's meter-day columns the analytics read, by binary COPY into memory."""
    raw = session.connection().connection.dbapi_connection  # type: ignore[attr-defined]
    out = io.BytesIO()
    t0 = time.perf_counter()
    with raw.cursor() as cur:
        cur.copy_expert(
            "COPY (SELECT meter_id, day, kwh_import, kwh_by_zone FROM agg_meter_day"
            f" WHERE day BETWEEN '{first}' AND '{last}') TO STDOUT WITH (FORMAT binary)",
            out,
        )
        cur.execute("SELECT count(*) FROM agg_meter_day WHERE day BETWEEN %s AND %s", (first, last))
        rows = int(cur.fetchone()[0])
    took = time.perf_counter() - t0
    session.rollback()  # type: ignore[attr-defined]
    return took, rows


def _analyse_timed(session: object, label: str) -> tuple[float, dict[str, int]]:
    """`analyse` step by step (the same calls in the same order), each step timed."""
    from rules.revenue.detectors import RULE_TYPES
    from service.revenue.analytics import analytics_set, findings_of, load_population
    from service.revenue.cases import add_findings

    steps: list[tuple[str, float]] = []
    t_all = time.perf_counter()
    rules = analytics_set()
    t0 = time.perf_counter()
    pop, meter_of = load_population(session, rules, MONTH_FIRST, MONTH_LAST)  # type: ignore[arg-type]
    steps.append(("load population", time.perf_counter() - t0))
    hits = []
    for rule in rules.rules:
        if not rule.enabled:
            continue
        t0 = time.perf_counter()
        hits.append(RULE_TYPES[rule.type](pop, rule, rule.parameters))
        steps.append((f"{rule.id} ({rule.type})", time.perf_counter() - t0))
    t0 = time.perf_counter()
    start = MONTH_FIRST - timedelta(days=rules.history_days)
    findings = findings_of(pop, hits, start, meter_of)
    added = add_findings(session, findings, NOW, rules.escalate_after)  # type: ignore[arg-type]
    session.commit()  # type: ignore[attr-defined]
    steps.append(("cases: open, evidence, processes, audit, commit", time.perf_counter() - t0))
    took = time.perf_counter() - t_all
    print(f"\n{label}: {len(pop):,} consumers, {pop.daily.shape[1]} days each: {took:.1f} s")
    for name, seconds in steps:
        print(f"  {name:<52} {seconds:7.2f} s")
    hit_counts = {h.rule.id: len(np.unique(h.row)) for h in hits}
    print(f"  hits (consumers) by rule: {hit_counts}")
    print(
        f"  findings {len(findings):,}; cases opened {len(added.opened):,}; evidence added {added.evidence:,}"
    )
    return took, {"consumers": len(pop), "opened": len(added.opened)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--consumers", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10,000 consumers")
    args = parser.parse_args()
    n = 10_000 if args.quick else args.consumers

    from flask_migrate import upgrade
    from sqlalchemy import text

    from service import create_app
    from service.config import Config
    from service.extensions import db
    from service.masterdata.demo import seed_masterdata, seed_users
    from tests.revenue import population as gen

    fresh = FreshDatabase("atr")
    url = fresh.create()
    try:
        var = Path(tempfile.mkdtemp(prefix="cmdms-bench-"))
        app = create_app(
            Config(
                database_url=url, redis_url=redis_url(4), secret_key="bench", var_dir=var, amr_drop_dir=var
            )
        )
        with app.app_context():
            upgrade()
            session = db.session()
            t0 = time.perf_counter()
            summary = seed_masterdata(session, consumers=40, seed=7)
            seed_users(session, summary)
            org = session.execute(
                text("SELECT id FROM org_units ORDER BY length(path) DESC, id LIMIT 1")
            ).scalar_one()
            g = gen.generate(n, month_days=(MONTH_LAST - MONTH_FIRST).days + 1, seed=3)
            _plant(g)
            stored = gen.store(session, g, MONTH_FIRST, int(org), SINCE)
            session.commit()
            raw = session.connection().connection.dbapi_connection
            raw.autocommit = True
            raw.cursor().execute("VACUUM ANALYZE")
            raw.autocommit = False
            db.session.remove()
            meter_days = int(np.count_nonzero(~np.isnan(g.metered_zones[:, :, 0])))
            print(
                f"data: {n:,} generated consumers (+ the demo's 40) on {len(g.feeder_of_dt):,} DTs;"
                f" {meter_days:,} meter-days ({g.month_from} days of history + {MONTH_FIRST}..{MONTH_LAST}),"
                f" {len(g.events):,} tamper events, {len(g.planted)} planted patterns;"
                f" generated in {time.perf_counter() - t0:.0f} s (not timed below)"
            )

            session = db.session()
            window_first = MONTH_FIRST - timedelta(days=g.month_from)
            base_s, base_rows = _baseline_copy(session, window_first, MONTH_LAST)
            print(
                f"baseline: binary COPY of the window's {base_rows:,} meter-days (meter, day, kWh, zones)"
                f" to memory: {base_s:.2f} s"
            )
            first_s, first = _analyse_timed(session, "full analytics, first run")
            again_s, _ = _analyse_timed(session, "same month again (every finding already on its case)")
            base2_s, _ = _baseline_copy(session, window_first, MONTH_LAST)
            print(f"baseline again after the runs: {base2_s:.2f} s")

            rules = {
                int(c): set(r)
                for c, r in session.execute(
                    text(
                        "SELECT c.consumer_id, array_agg(DISTINCT e.rule_id) FROM atr_cases c"
                        " JOIN atr_evidence e ON e.case_id = c.id GROUP BY c.consumer_id"
                    )
                )
            }
            planted = {p: int(stored.consumer_ids[i]) for p, i in g.planted.items()}
            found = {p: c in rules for p, c in planted.items()}
            false = len(set(rules) - set(planted.values()))
            print(
                f"\nplanted patterns with a case on the right consumer: {sum(found.values())} of {len(found)}"
                f" {found}; false cases {false:,} of {n:,} = {100 * false / n:.2f} %"
            )
            verdict = "met" if first_s < GOAL_SECONDS else "NOT met"
            print(
                f"summary: full analytics {first_s:.1f} s for {first['consumers']:,} consumers"
                f" (goal < {GOAL_SECONDS:.0f} s: {verdict}); re-run {again_s:.1f} s;"
                f" bare COPY of the meter-days {base_s:.2f} s → analytics = {first_s / base_s:.0f}× the read"
            )
            db.session.remove()
            db.engine.dispose()
    finally:
        fresh.drop()


if __name__ == "__main__":
    main()
