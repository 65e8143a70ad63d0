"""Billing determinants for many consumers at once: a few set-based queries per chunk.

PostgreSQL sums the intervals per installation segment, TOD zone and quality (with each
group's peak demand and its time), the bracketing register reads come in one join, and
`rules.determinants.compute_from_groups` combines them — the same numbers as the per-segment
loader `determinants.compute_by_segment`, without one query per installation.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from rules import determinants as math
from rules.frames import IST_OFFSET_SECONDS, quality_codes
from service.outbox import outbox
from service.readings.store import raw_connection
from service.vee.determinants import BILLABLE, OPERATION, _failure_counts, _payload, period_bounds

_SEGMENTS = (
    "SELECT i.consumer_id, i.meter_id, m.serial_number, m.multiplying_factor, m.display_digits,"
    " greatest(i.installed_at, :start) AS seg_start, least(coalesce(i.removed_at, :end), :end) AS seg_end,"
    " i.installed_at >= :start AS new_in_period, i.removed_at IS NOT NULL AND i.removed_at <= :end AS removed,"
    " i.initial_kwh, i.initial_kvah, i.final_kwh, i.final_kvah, i.installed_at, i.removed_at, c.ivrs_number"
    " FROM installations i JOIN meters m ON m.id = i.meter_id JOIN consumers c ON c.id = i.consumer_id"
    " WHERE {which} AND i.installed_at < :end AND (i.removed_at IS NULL OR i.removed_at > :start)"
    " ORDER BY i.consumer_id, i.installed_at"
)

# The latest billable total read of each segment edge within the day before it (as the loader).
_EDGE_READS = (
    "SELECT DISTINCT ON (e.i, r.channel) e.i, r.channel, r.value"
    " FROM unnest(%(i)s::int[], %(m)s::int[], %(at)s::timestamptz[]) AS e(i, meter_id, at)"
    " JOIN register_reads r ON r.meter_id = e.meter_id AND r.read_at <= e.at"
    " AND r.read_at > e.at - interval '1 day'"
    " WHERE r.channel IN ('kwh', 'kvah') AND r.tod_zone = 0 AND r.kind IN ('daily', 'billing', 'scalar')"
    " AND r.quality = ANY(%(ok)s) AND r.read_at > %(lo)s AND r.read_at <= %(hi)s"
    " ORDER BY e.i, r.channel, r.read_at DESC, r.kind"
)

# Per segment, TOD zone (by the local minute the interval starts) and quality: count, sums, and
# as arrays compared element-wise (so hash-aggregated, no sort): [peak demand (kWh × 60/minutes,
# float8 as numpy computes it), -end of its first interval] and [first interval end, its minutes].
_INTERVAL_GROUPS = (
    "WITH s AS (SELECT * FROM unnest(%(i)s::int[], %(m)s::int[], %(a)s::timestamptz[],"
    " %(b)s::timestamptz[]) AS s(i, meter_id, a, b)),"
    " x AS (SELECT s.i, date_part('epoch', p.interval_end)::bigint AS ts, p.interval_minutes, p.quality,"
    # Only billable values are summed: a failed value may be absurd (1e308 kWh), and its
    # product with per_hour would overflow float8 and fail the whole request.
    " CASE WHEN p.kwh <> 'NaN' AND p.quality = ANY(%(ok)s) THEN p.kwh ELSE 0 END AS kwh,"
    " CASE WHEN p.kvah <> 'NaN' AND p.quality = ANY(%(ok)s) THEN p.kvah ELSE 0 END AS kvah,"
    " 3600.0::float8 / (p.interval_minutes * 60)::float8 AS per_hour"
    # Per segment, its kVAh range is read once and hashed: not one index probe per interval.
    " FROM s CROSS JOIN LATERAL (SELECT k.interval_end, k.interval_minutes, k.quality, k.value AS kwh,"
    " v.value AS kvah FROM interval_readings k LEFT JOIN interval_readings v ON v.meter_id = s.meter_id"
    " AND v.channel = 'kvah' AND v.interval_end = k.interval_end AND v.interval_end > s.a"
    " AND v.interval_end <= s.b AND v.interval_end > %(lo)s AND v.interval_end <= %(hi)s"
    " WHERE k.meter_id = s.meter_id AND k.channel = 'kwh' AND k.interval_end > s.a"
    " AND k.interval_end <= s.b AND k.interval_end > %(lo)s AND k.interval_end <= %(hi)s) p)"
    " SELECT i, (%(zones)s::int[])[((ts - interval_minutes * 60 + %(offset)s) %% 86400) / 60 + 1],"
    " quality, count(*), sum(kwh), sum(kvah), max(ARRAY[kwh * per_hour, -ts::float8]),"
    " max(ARRAY[kvah * per_hour, -ts::float8]), min(ARRAY[ts, interval_minutes])"
    " FROM x GROUP BY 1, 2, 3"
)


def compute_for_period(
    session: Session,
    period: str,
    consumer_ids: list[int] | None = None,
    zones: tuple[math.TodZone, ...] = math.DEFAULT_TOD_ZONES,
) -> dict[int, dict[str, Any]]:
    """Determinants payloads by consumer id for the given consumers (None: every consumer)."""
    start, end = period_bounds(period)
    which = "i.consumer_id IS NOT NULL" if consumer_ids is None else "i.consumer_id = ANY(:ids)"
    segs = session.execute(
        text(_SEGMENTS.format(which=which)), {"ids": consumer_ids, "start": start, "end": end}
    ).all()
    if not segs:
        return {}
    seg_consumer = np.array([s.consumer_id for s in segs], dtype=np.int64)
    owners, seg_index = np.unique(seg_consumer, return_inverse=True)
    n_seg = len(segs)
    meter = [s.meter_id for s in segs]
    a = [s.seg_start for s in segs]
    b = [s.seg_end for s in segs]
    cur = raw_connection(session).cursor()
    try:
        reads = _edge_reads(cur, meter, a, b, start, end)
        cur.execute("SET LOCAL work_mem = '256MB'")  # the groups fit a hash table, not a disk sort
        cur.execute(
            _INTERVAL_GROUPS,
            {
                "i": list(range(n_seg)),
                "m": meter,
                "a": a,
                "b": b,
                "lo": start,
                "hi": end,
                "zones": math.zone_table(zones).tolist(),
                "offset": IST_OFFSET_SECONDS,
                "ok": list(BILLABLE),
            },
        )
        groups = cur.fetchall()
    finally:
        cur.close()

    start_kwh = _edge(segs, reads, "kwh", 0, "start")
    start_kvah = _edge(segs, reads, "kvah", 0, "start")
    end_kwh = _edge(segs, reads, "kwh", n_seg, "end")
    end_kvah = _edge(segs, reads, "kvah", n_seg, "end")
    g = _group_arrays(groups, seg_index)
    # The first interval's length sets the expected count (30 minutes when there is none).
    minutes = np.full(n_seg, 30, dtype=np.int64)
    if len(groups):
        seg_of_group = np.array([r[0] for r in groups], dtype=np.int64)
        order = np.lexsort((g.first_ts, seg_of_group))
        first = order[np.r_[True, seg_of_group[order][1:] != seg_of_group[order][:-1]]]
        minutes[seg_of_group[first]] = np.array([groups[k][8][1] for k in first.tolist()], dtype=np.int64)
    span_s = np.array([(e - s).total_seconds() for s, e in zip(a, b, strict=True)])
    result = math.compute_from_groups(
        len(owners),
        math.Segments(
            consumer=seg_index.astype(np.int64),
            start_kwh=start_kwh,
            end_kwh=end_kwh,
            start_kvah=start_kvah,
            end_kvah=end_kvah,
            multiplier=np.array([float(s.multiplying_factor) for s in segs]),
            display_digits=np.array([s.display_digits for s in segs], dtype=np.int64),
            expected_intervals=(span_s // (minutes * 60)).astype(np.int64),
        ),
        g,
        zones,
    )
    failures = _failure_counts(session, sorted(set(meter)), start, end)
    start_list, end_list = start_kwh.tolist(), end_kwh.tolist()
    out: dict[int, dict[str, Any]] = {}
    bounds = np.searchsorted(seg_index, np.arange(len(owners) + 1))
    for c, consumer_id in enumerate(owners.tolist()):
        mine = list(range(int(bounds[c]), int(bounds[c + 1])))
        out[consumer_id] = _payload(
            result,
            c,
            segs[mine[0]].ivrs_number,
            period,
            [segs[i] for i in mine],
            mine,
            start_list,
            end_list,
            failures,
        )
    return out


def _edge_reads(
    cur: Any, meter: list[int], a: list[datetime], b: list[datetime], start: datetime, end: datetime
) -> dict[tuple[int, str], float]:
    """Reads at both edges of every segment: key (edge index, channel); starts 0..n-1, ends n..2n-1."""
    cur.execute(
        _EDGE_READS,
        {
            "i": list(range(2 * len(meter))),
            "m": meter + meter,
            "at": a + b,
            "ok": list(BILLABLE),
            "lo": start - timedelta(days=1),
            "hi": end,
        },
    )
    return {(int(i), channel): float(value) for i, channel, value in cur.fetchall()}


def _edge(
    segs: Sequence[Any], reads: dict[tuple[int, str], float], channel: str, base: int, edge: str
) -> np.ndarray:
    """Cumulative register at a segment edge: the installation's own initial/final read when the
    meter came or went inside the period, else the stored read (NaN when there is none)."""
    out = np.empty(len(segs))
    for n, s in enumerate(segs):
        own: Any = None
        if edge == "start" and s.new_in_period:
            own = s.initial_kwh if channel == "kwh" else s.initial_kvah
        elif edge == "end" and s.removed:
            own = s.final_kwh if channel == "kwh" else s.final_kvah
        out[n] = float(own) if own is not None else reads.get((base + n, channel), np.nan)
    return out


def _group_arrays(groups: list[Any], seg_index: np.ndarray) -> math.IntervalGroups:
    n = len(groups)

    def col(k: int, dtype: Any) -> Any:
        return np.fromiter((r[k] for r in groups), dtype, n)

    seg = col(0, np.int64)
    return math.IntervalGroups(
        consumer=seg_index[seg].astype(np.int64) if n else np.zeros(0, dtype=np.int64),
        zone=col(1, np.int64),
        quality=quality_codes([r[2] for r in groups]),
        count=col(3, np.int64),
        kwh=col(4, np.float64),
        kvah=col(5, np.float64),
        md_kw=np.fromiter((r[6][0] for r in groups), np.float64, n),
        md_kw_at=np.fromiter((-r[6][1] for r in groups), np.int64, n),
        md_kva=np.fromiter((r[7][0] for r in groups), np.float64, n),
        md_kva_at=np.fromiter((-r[7][1] for r in groups), np.int64, n),
        first_ts=np.fromiter((r[8][0] for r in groups), np.int64, n),
    )


def publish_many(
    session: Session, period: str, payloads: dict[int, dict[str, Any]]
) -> tuple[list[tuple[int, str]], int]:
    """`determinants.publish` for many consumers in a few statements: a new revision only where
    the content changed, each with its outbox push (dedupe key consumer + period + revision).

    Returns ((outbox id, queue) of the new pushes, unchanged count). The caller enqueues them
    after commit (`enqueue_pushes`, one Redis pipeline); any it does not, the outbox sweep does.
    """
    if not payloads:
        return [], 0
    consumer_ids = sorted(payloads)
    cur = raw_connection(session).cursor()
    try:
        # Locks every stored revision of these consumers and period: a concurrent publisher waits.
        cur.execute(
            "SELECT consumer_id, revision, sha256 FROM billing_determinants WHERE period = %(p)s"
            " AND consumer_id = ANY(%(ids)s) ORDER BY consumer_id, revision FOR UPDATE",
            {"p": period, "ids": consumer_ids},
        )
        latest = {cid: (rev, sha) for cid, rev, sha in cur.fetchall()}  # last revision wins
        buffer = io.StringIO()
        out = csv.writer(buffer)
        for cid in consumer_ids:
            body = json.dumps(payloads[cid], sort_keys=True, separators=(",", ":"))
            sha = hashlib.sha256(body.encode()).hexdigest()  # = determinants.digest(payload)
            rev, old_sha = latest.get(cid, (0, None))
            if sha != old_sha:
                out.writerow((cid, rev + 1, sha, body))
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS determinants_stage (consumer_id int, revision int,"
            " sha256 text, payload jsonb) ON COMMIT DELETE ROWS"
        )
        cur.execute("TRUNCATE determinants_stage")
        buffer.seek(0)
        cur.copy_expert("COPY determinants_stage FROM STDIN WITH (FORMAT csv)", buffer)
        cur.execute(
            "WITH new AS (INSERT INTO billing_determinants (consumer_id, period, revision, sha256, payload)"
            " SELECT consumer_id, %(p)s, revision, sha256, payload FROM determinants_stage"
            # A consumer new to this period has no row to lock: a concurrent publisher that
            # inserted its revision first wins, this one leaves it (same revision, no 500).
            " ON CONFLICT (consumer_id, period, revision) DO NOTHING"
            " RETURNING id, consumer_id, revision)"
            " INSERT INTO outbox (operation, payload, dedupe_key, queue, status, attempts, max_attempts)"
            " SELECT %(op)s, jsonb_build_object('determinants_id', id),"
            " %(op)s || ':' || consumer_id || ':' || %(p)s || ':r' || revision, 'default', 'pending', 0, 5"
            " FROM new ORDER BY consumer_id ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, queue",
            {"p": period, "op": OPERATION},
        )
        queued = cur.fetchall()
    finally:
        cur.close()
    return [(int(i), str(q)) for i, q in queued], len(consumer_ids) - len(queued)


def enqueue_pushes(items: list[tuple[int, str]], batch: int = 5_000) -> None:
    """Enqueue committed outbox pushes on RQ, many jobs per Redis round trip."""
    outbox.enqueue_items(items, batch)
