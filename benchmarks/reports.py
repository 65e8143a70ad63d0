"""Reports over a month for 100,000 consumers, after aggregation; and the aggregation itself.

A fresh benchmark database gets the demo discom's master data (`seed_masterdata(N)`), a month
(October 2026) of 30-minute kWh and kVAh intervals, already `valid`, for `--interval-meters`
consumer meters, SCADA kWh every 15 minutes for every feeder, one scalar read a month (Sep,
Oct) for scalar meters and billing's collection data for every consumer — all by binary COPY
or one INSERT, untimed. Then, timed:

1. aggregation: `service.aggregates.refresh` over the interval meters in chunks (meter-days,
   hours, org days/months, scalar reads) in readings/s, beside a plain
   `INSERT ... SELECT ... GROUP BY` (meter, local day: sum of kWh) of the same rows, same run;
2. the network-days of every feeder and DT for the month (`refresh_all_feeders`), after the
   meter-days of the meters without intervals are filled in from those with them (so every
   one of the N consumers has a month of meter-days; untimed);
3. each registered report as its page does it (total + first 50 rows + chart rows), and as
   its CSV (every row), discom-wide, goal under 2 s each.

    .venv/bin/python benchmarks/reports.py [--consumers 100000] [--interval-meters 10000] [--quick]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.benchdb import FreshDatabase, redis_url

START = np.datetime64("2026-09-30T18:30:00", "s")  # 1 Oct 00:00 IST
DAYS = 31
FIRST, LAST = date(2026, 10, 1), date(2026, 10, 31)


def _copy(raw: object, table: str, columns: str, buffer: bytes) -> None:
    cur = raw.cursor()  # type: ignore[attr-defined]
    cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT binary)", io.BytesIO(buffer))
    cur.close()


def _intervals(raw: object, meter_ids: np.ndarray) -> int:
    from service.readings.store import _HEADER, _TRAILER, binary_rows, timestamps_us

    rng = np.random.default_rng(5)
    per = DAYS * 48
    ends = timestamps_us(START + np.arange(1, per + 1) * np.timedelta64(30, "m"))
    rows = 0
    for first in range(0, len(meter_ids), 2_000):
        ids = meter_ids[first : first + 2_000]
        values = rng.uniform(0.02, 0.4, len(ids) * per)
        parts = [_HEADER]
        for channel, v in ((b"kwh", values), (b"kvah", values * 1.12)):
            parts.append(
                binary_rows(
                    [
                        (">i4", np.repeat(ids, per)),
                        (f"S{len(channel)}", channel),
                        (">i8", np.tile(ends, len(ids))),
                        (">f8", v),
                        (">i2", 30),
                        ("S5", b"valid"),
                        ("S5", b"bench"),
                        (">i8", 1),
                    ]
                )
            )
        parts.append(_TRAILER)
        _copy(raw, "interval_readings",
              "meter_id, channel, interval_end, value, interval_minutes, quality, source, batch_id",
              b"".join(parts))  # fmt: skip
        rows += len(values) * 2
    return rows


def _scada(raw: object, feeder_ids: np.ndarray) -> int:
    from service.readings.store import _HEADER, _TRAILER, binary_rows, timestamps_us

    per = DAYS * 96
    ends = timestamps_us(START + np.arange(1, per + 1) * np.timedelta64(15, "m"))
    values = np.random.default_rng(6).uniform(50, 400, len(feeder_ids) * per)
    buffer = b"".join(
        [
            _HEADER,
            binary_rows(
                [
                    (">i4", np.repeat(feeder_ids, per)),
                    ("S6", b"feeder"),
                    ("S3", b"kwh"),
                    (">i8", np.tile(ends, len(feeder_ids))),
                    (">f8", values),
                    (">i2", 15),
                    ("S3", b"raw"),
                    ("S5", b"bench"),
                    (">i8", 1),
                ]
            ),
            _TRAILER,
        ]
    )
    _copy(raw, "network_energy",
          "network_id, network_kind, channel, interval_end, value, interval_minutes, quality, source, batch_id",
          buffer)  # fmt: skip
    return len(values)


def _timed(fn: object) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()  # type: ignore[operator]
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--consumers", type=int, default=100_000)
    parser.add_argument("--interval-meters", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=2_000, help="meters per refresh call")
    parser.add_argument("--quick", action="store_true", help="5,000 consumers, 1,000 interval meters")
    args = parser.parse_args()
    if args.quick:
        args.consumers, args.interval_meters = 5_000, 1_000

    from flask_migrate import upgrade
    from sqlalchemy import text

    from service import aggregates, create_app
    from service.auth.principal import Principal
    from service.config import Config
    from service.extensions import db
    from service.masterdata.demo import seed_masterdata
    from service.readings import partitions
    from service.reports import export, registry, running

    fresh = FreshDatabase("reports")
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
            months = partitions.months_between(date(2026, 9, 1), date(2026, 10, 31))
            for table in ("register_reads", "interval_readings", "network_energy"):
                partitions.ensure_partitions(session, table, months)
            session.commit()
            consumer_meters = np.array(
                session.execute(
                    text(
                        "SELECT i.meter_id FROM installations i JOIN meters m ON m.id = i.meter_id"
                        " WHERE i.consumer_id IS NOT NULL AND m.meter_class <> 'scalar' ORDER BY 1"
                    )
                ).scalars().all(),
                dtype=np.int32,
            )  # fmt: skip
            interval_ids = consumer_meters[: args.interval_meters]
            feeders = np.array(
                session.execute(text("SELECT id FROM feeders ORDER BY id")).scalars().all(), np.int32
            )
            raw = session.connection().connection.dbapi_connection
            readings = _intervals(raw, interval_ids)
            scada = _scada(raw, feeders)
            scalar = session.execute(
                text(
                    "INSERT INTO register_reads (meter_id, kind, channel, tod_zone, read_at, value, quality,"
                    " source, batch_id) SELECT m.id, 'scalar', 'kwh', 0, t.at, 1000 + (m.id % 97) * t.n, 'valid',"
                    " 'bench', 1 FROM meters m CROSS JOIN (VALUES ('2026-09-05T05:00:00+00'::timestamptz, 0),"
                    " ('2026-10-05T05:00:00+00'::timestamptz, 1)) t(at, n) WHERE m.meter_class = 'scalar'"
                )
            ).rowcount  # type: ignore[attr-defined]
            session.execute(
                text(
                    "INSERT INTO billing_collections (consumer_id, period, org_unit_id, units_billed_kwh,"
                    " amount_billed_inr, amount_collected_inr, arrears_collected_inr, source, revision)"
                    " SELECT id, '2026-10', org_unit_id, 150 + id % 50, (150 + id % 50) * 7, (150 + id % 50) * 6.3,"
                    " 0, 'bench', 1 FROM consumers"
                )
            )
            session.commit()
            raw.autocommit = True
            raw.cursor().execute("VACUUM ANALYZE")
            raw.autocommit = False
            print(
                f"data: {args.consumers:,} consumers, {len(consumer_meters):,} interval-capable consumer meters;"
                f" {readings:,} interval values ({len(interval_ids):,} meters x 31 days x 48, kWh + kVAh),"
                f" {scada:,} SCADA values ({len(feeders):,} feeders), {scalar:,} scalar reads;"
                f" generated in {time.perf_counter() - t0:.0f} s (not timed below)"
            )

            ids = [int(i) for i in interval_ids]
            session.execute(text("CREATE UNLOGGED TABLE plain_day (meter_id int, day date, kwh float8)"))
            session.commit()
            plain_s, _ = _timed(
                lambda: session.execute(
                    text(
                        "INSERT INTO plain_day SELECT meter_id,"
                        " ((interval_end - interval '1 second') AT TIME ZONE 'Asia/Kolkata')::date AS day,"
                        " sum(value) AS kwh FROM interval_readings WHERE meter_id = ANY(:ids)"
                        " AND interval_end > :s AND interval_end <= :e AND channel IN ('kwh', 'kvah')"
                        " GROUP BY 1, 2"
                    ),
                    {
                        "ids": ids,
                        "s": aggregates.local_span(FIRST, LAST)[0],
                        "e": aggregates.local_span(FIRST, LAST)[1],
                    },
                )
            )
            session.commit()

            def aggregate() -> int:
                written = 0
                for i in range(0, len(ids), args.chunk):
                    written += aggregates.refresh(
                        session, ids[i : i + args.chunk], FIRST, LAST, with_network=False
                    )
                    session.commit()
                return written

            agg_s, written = _timed(aggregate)
            scalar_ids = list(
                session.execute(text("SELECT id FROM meters WHERE meter_class = 'scalar'")).scalars()
            )
            scalar_s, _ = _timed(
                lambda: aggregates.refresh(session, scalar_ids, FIRST, LAST, with_network=False)
            )
            session.commit()
            print(
                f"aggregation, {readings:,} interval values -> {written:,} meter-days (+ hours, org days/months):"
                f" {agg_s:.1f} s = {readings / agg_s:,.0f} readings/s;"
                f" plain INSERT ... SELECT ... GROUP BY of the same rows {plain_s:.1f} s ="
                f" {readings / plain_s:,.0f} readings/s -> {100 * plain_s / agg_s:.0f} % of plain"
            )
            print(f"scalar reads with their consumption, {len(scalar_ids):,} scalar meters: {scalar_s:.1f} s")
            # Every other consumer meter gets a copy of an aggregated meter's month (untimed).
            session.execute(
                text(
                    "INSERT INTO agg_meter_day SELECT o.id, a.day, o.org_unit_id, o.meter_class,"
                    " a.kwh_import, a.kwh_export, a.kvah_import, a.kvah_export, a.kvarh_lag, a.kvarh_lead,"
                    " a.kwh_by_zone, a.kvah_by_zone, a.md_kw, a.md_kw_at, a.md_kva, a.md_kva_at, a.pf,"
                    " a.interval_minutes, a.intervals, a.expected_intervals, a.valid_count, a.estimated_count,"
                    " a.edited_count, a.failed_count, a.suspect_count, a.raw_count, a.estimated_share, now()"
                    " FROM (SELECT id, org_unit_id, meter_class, row_number() OVER (ORDER BY id) AS n FROM meters"
                    "       WHERE id <> ALL(:ids) AND id = ANY(:all)) o"
                    " JOIN agg_meter_day a ON a.meter_id = (:ids)[1 + (o.n % cardinality(CAST(:ids AS int[])))]"
                ),
                {"ids": ids, "all": [int(i) for i in consumer_meters]},
            )
            orgs = set(session.execute(text("SELECT id FROM org_units")).scalars())
            from service.aggregates.orgs import refresh_orgs

            refresh_orgs(session, orgs, FIRST, LAST)
            session.commit()
            net_s, _ = _timed(lambda: aggregates.refresh_all_feeders(session, FIRST, LAST))
            session.commit()
            meter_days = session.execute(text("SELECT count(*) FROM agg_meter_day")).scalar_one()
            net_rows = session.execute(text("SELECT count(*) FROM agg_network_day")).scalar_one()
            print(
                f"network-days of every feeder and DT for the month ({meter_days:,} meter-days in,"
                f" {net_rows:,} network-days out): {net_s:.1f} s"
            )
            raw = session.connection().connection.dbapi_connection
            raw.commit()
            raw.autocommit = True
            raw.cursor().execute("VACUUM ANALYZE")
            raw.autocommit = False
            session.rollback()

            principal = Principal("user", "bench", None, role="analyst")
            print(f"{'report':32} {'rows':>8} {'page+chart s':>13} {'CSV s':>8}   goal < 2 s")
            for report in registry.REPORTS.values():
                resolved = running.resolve(
                    session, report, {"period": "2026-10", "day": "2026-10-05"}, principal, date(2026, 11, 3)
                )

                def page(r: object = report, res: object = resolved) -> int:
                    result = running.page(session, r, res, principal, 1, 50)  # type: ignore[arg-type]
                    running.chart_rows(session, r, res, principal)  # type: ignore[arg-type]
                    return int(result["total"])

                page_s, total = _timed(page)
                csv_s, _ = _timed(
                    lambda r=report, res=resolved: sum(
                        len(c) for c in export.csv_chunks(r, running.stream(session, r, res, principal))
                    )
                )
                session.rollback()
                flag = "" if max(page_s, csv_s) < 2 else "  OVER GOAL"
                print(f"{report.name:32} {total:>8,} {page_s:>13.2f} {csv_s:>8.2f}{flag}")
            db.session.remove()
            db.engine.dispose()
    finally:
        fresh.drop()


if __name__ == "__main__":
    main()
