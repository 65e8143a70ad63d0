"""Billing determinants of consumers for a month, from validated data, across replacements.

Loads installations overlapping the period, their bracketing register reads and intervals
(set-based, per chunk of consumers: `service.vee.bulk`), computes with `rules.determinants`
(vectorised), stores a revision when the content changes and queues the push to billing
through the outbox (idempotent by consumer + period + revision).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from rules import determinants as math
from rules.frames import QUALITIES, quality_codes
from service.masterdata import Consumer
from service.outbox import outbox
from service.vee.models import BillingDeterminants
from service.vee.rerun import local_days

OPERATION = "billing.determinants"
BILLABLE = ("valid", "estimated", "edited", "suspect")


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """A billing month 'YYYY-MM' as local (IST) midnight to midnight."""
    try:
        first = datetime.strptime(period, "%Y-%m").date()
    except ValueError:
        raise ValueError(f"period must be YYYY-MM, got {period!r}") from None
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return local_days(first, nxt - timedelta(days=1))


def _iso(epoch_s: int) -> str | None:
    return datetime.fromtimestamp(int(epoch_s), UTC).isoformat() if epoch_s else None


def _num(value: float, places: int = 3) -> float | None:
    return None if not np.isfinite(value) else round(float(value), places)


def compute_by_segment(session: Session, consumer_ids: list[int], period: str) -> dict[int, dict[str, Any]]:
    """The reference loader: queries per installation segment and computes on the rows.

    Kept to pin the set-based `bulk.compute_for_period` to it in tests; not for volume.
    """
    start, end = period_bounds(period)
    segs = session.execute(
        text(
            "SELECT i.consumer_id, i.meter_id, m.serial_number, m.multiplying_factor, m.display_digits,"
            " greatest(i.installed_at, :start) AS seg_start, least(coalesce(i.removed_at, :end), :end) AS seg_end,"
            " i.installed_at >= :start AS new_in_period, i.removed_at IS NOT NULL AND i.removed_at <= :end AS removed,"
            " i.initial_kwh, i.initial_kvah, i.final_kwh, i.final_kvah, i.installed_at, i.removed_at"
            " FROM installations i JOIN meters m ON m.id = i.meter_id"
            " WHERE i.consumer_id = ANY(:ids) AND i.installed_at < :end AND (i.removed_at IS NULL OR i.removed_at > :start)"
            " ORDER BY i.consumer_id, i.installed_at"
        ),
        {"ids": consumer_ids, "start": start, "end": end},
    ).all()
    if not segs:
        return {}
    owners = sorted({s.consumer_id for s in segs})
    cidx = {c: i for i, c in enumerate(owners)}
    start_kwh, end_kwh, start_kvah, end_kvah, expected = [], [], [], [], []
    interval_rows: list[Any] = []
    for s in segs:
        reads = _register_reads(session, s.meter_id, s.seg_start, s.seg_end)
        start_kwh.append(float(s.initial_kwh) if s.new_in_period else reads.get(("kwh", "start"), np.nan))
        start_kvah.append(
            float(s.initial_kvah)
            if s.new_in_period and s.initial_kvah is not None
            else reads.get(("kvah", "start"), np.nan)
        )
        end_kwh.append(
            float(s.final_kwh) if s.removed and s.final_kwh is not None else reads.get(("kwh", "end"), np.nan)
        )
        end_kvah.append(
            float(s.final_kvah)
            if s.removed and s.final_kvah is not None
            else reads.get(("kvah", "end"), np.nan)
        )
        rows = session.execute(
            text(
                "SELECT extract(epoch FROM k.interval_end)::bigint AS ts, k.interval_minutes, k.value AS kwh,"
                " k.quality, v.value AS kvah FROM interval_readings k LEFT JOIN interval_readings v"
                " ON v.meter_id = k.meter_id AND v.channel = 'kvah' AND v.interval_end = k.interval_end"
                " WHERE k.meter_id = :m AND k.channel = 'kwh' AND k.interval_end > :a AND k.interval_end <= :b"
                " ORDER BY k.interval_end"
            ),
            {"m": s.meter_id, "a": s.seg_start, "b": s.seg_end},
        ).all()
        minutes = rows[0].interval_minutes if rows else 30
        expected.append(int((s.seg_end - s.seg_start).total_seconds() // (minutes * 60)))
        interval_rows += [(cidx[s.consumer_id], r) for r in rows]
    interval_rows.sort(key=lambda cr: (cr[0], cr[1].ts))
    n = len(interval_rows)
    result = math.compute(
        len(owners),
        math.Segments(
            consumer=np.array([cidx[s.consumer_id] for s in segs], dtype=np.int64),
            start_kwh=np.array(start_kwh, dtype=float),
            end_kwh=np.array(end_kwh, dtype=float),
            start_kvah=np.array(start_kvah, dtype=float),
            end_kvah=np.array(end_kvah, dtype=float),
            multiplier=np.array([float(s.multiplying_factor) for s in segs]),
            display_digits=np.array([s.display_digits for s in segs], dtype=np.int64),
            expected_intervals=np.array(expected, dtype=np.int64),
        ),
        math.Intervals(
            consumer=np.fromiter((c for c, _ in interval_rows), np.int64, n),
            ts=np.fromiter((r.ts for _, r in interval_rows), np.int64, n),
            step_s=np.fromiter((r.interval_minutes * 60 for _, r in interval_rows), np.int64, n),
            kwh=np.array([r.kwh for _, r in interval_rows], dtype=float),
            kvah=np.array([np.nan if r.kvah is None else r.kvah for _, r in interval_rows], dtype=float),
            quality=quality_codes([r.quality for _, r in interval_rows]),
        ),
    )
    ivrs = dict(
        session.execute(select(Consumer.id, Consumer.ivrs_number).where(Consumer.id.in_(owners)))
        .tuples()
        .all()
    )
    failures = _failure_counts(session, [s.meter_id for s in segs], start, end)
    out: dict[int, dict[str, Any]] = {}
    for c, consumer_id in enumerate(owners):
        mine = [i for i, s in enumerate(segs) if s.consumer_id == consumer_id]
        out[consumer_id] = _payload(
            result, c, ivrs[consumer_id], period, [segs[i] for i in mine], mine, start_kwh, end_kwh, failures
        )
    return out


def _register_reads(
    session: Session, meter_id: int, a: datetime, b: datetime
) -> dict[tuple[str, str], float]:
    """Cumulative kWh / kVAh at the segment's start (latest read at or before) and end."""
    out: dict[tuple[str, str], float] = {}
    for edge, at in (("start", a), ("end", b)):
        for r in session.execute(
            text(
                "SELECT DISTINCT ON (channel) channel, value FROM register_reads WHERE meter_id = :m"
                " AND channel IN ('kwh', 'kvah') AND tod_zone = 0 AND kind IN ('daily', 'billing', 'scalar')"
                " AND read_at <= :at AND read_at > :at - interval '1 day' AND quality = ANY(:ok)"
                " ORDER BY channel, read_at DESC"
            ),
            {"m": meter_id, "at": at, "ok": list(BILLABLE)},
        ):
            out[(r.channel, edge)] = float(r.value)
    return out


def _failure_counts(session: Session, meter_ids: list[int], start: datetime, end: datetime) -> dict[int, int]:
    rows = session.execute(
        text(
            "SELECT meter_id, count(*) FROM vee_failures WHERE meter_id = ANY(:ids) AND ts > :a AND ts <= :b"
            " AND severity = 'fail' GROUP BY meter_id"
        ),
        {"ids": meter_ids, "a": start, "b": end},
    ).tuples()
    return dict(rows.all())


def _payload(
    d: math.Determinants,
    c: int,
    ivrs: str,
    period: str,
    segs: list[Any],
    idx: list[int],
    start_kwh: list[float],
    end_kwh: list[float],
    failures: dict[int, int],
) -> dict[str, Any]:
    counts = {q: int(d.quality_counts[c][i]) for i, q in enumerate(QUALITIES)}
    used = sum(counts[q] for q in BILLABLE)
    expected = int(d.expected_intervals[c])
    meters = [
        {
            "serial_number": s.serial_number,
            "installed_at": s.installed_at.isoformat(),
            "removed_at": s.removed_at.isoformat() if s.removed_at else None,
            "start_kwh": _num(start_kwh[i]),
            "end_kwh": _num(end_kwh[i]),
            "multiplier": float(s.multiplying_factor),
        }
        for s, i in zip(segs, idx, strict=True)
    ]
    fails = sum(failures.get(s.meter_id, 0) for s in segs)
    return {
        "consumer": ivrs,
        "period": period,
        "kwh": _num(d.kwh[c]),
        "kvah": _num(d.kvah[c]),
        "tod": [
            {
                "zone": z.zone,
                "name": z.name,
                "kwh": _num(d.kwh_by_zone[c][z.zone - 1]),
                "kvah": _num(d.kvah_by_zone[c][z.zone - 1]),
            }
            for z in math.DEFAULT_TOD_ZONES
        ],
        "md_kw": {"value": _num(d.md_kw[c]), "at": _iso(d.md_kw_at[c])},
        "md_kva": {"value": _num(d.md_kva[c]), "at": _iso(d.md_kva_at[c])},
        "avg_pf": _num(d.avg_pf[c], 4),
        "energy_source": str(d.energy_source[c]),
        "meters": meters,
        "validation": {
            "intervals": counts,
            "expected_intervals": expected,
            "completeness_pct": round(100.0 * used / expected, 2) if expected else None,
            "failures": fails,
            "billable": bool(np.isfinite(d.kwh[c])) and counts["failed"] == 0 and counts["raw"] == 0,
        },
    }


def digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def publish(
    session: Session, consumer_id: int, period: str, payload: dict[str, Any]
) -> tuple[BillingDeterminants, bool]:
    """Store a revision if the content changed and queue its push; returns (row, new?)."""
    sha = digest(payload)
    # Two publishes of one consumer and period (billing retrying while an analyst clicks) would
    # both find no revision and insert revision 1; the lock makes the second see the first's.
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"determinants:{consumer_id}:{period}"}
    )
    latest = _latest_revision(session, consumer_id, period)
    if latest is not None and latest.sha256 == sha:
        return latest, False
    revision = latest.revision + 1 if latest else 1
    # A bulk publish (which does not take this lock) may insert the same revision first: then
    # its row stands and this caller answers with it.
    new_id = session.scalar(
        pg_insert(BillingDeterminants)
        .values(consumer_id=consumer_id, period=period, revision=revision, sha256=sha, payload=payload)
        .on_conflict_do_nothing(constraint="uq_billing_determinants_rev")
        .returning(BillingDeterminants.id)
    )
    if new_id is None:
        won = _latest_revision(session, consumer_id, period)
        assert won is not None
        return won, False
    row = session.get(BillingDeterminants, new_id)
    assert row is not None
    outbox.add(
        session,
        OPERATION,
        {"determinants_id": row.id},
        dedupe_key=f"{OPERATION}:{consumer_id}:{period}:r{row.revision}",
        queue="default",
    )
    return row, True


def _latest_revision(session: Session, consumer_id: int, period: str) -> BillingDeterminants | None:
    return session.scalar(
        select(BillingDeterminants)
        .where(BillingDeterminants.consumer_id == consumer_id, BillingDeterminants.period == period)
        .order_by(BillingDeterminants.revision.desc())
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def idempotency_key(row: BillingDeterminants) -> str:
    return f"determinants:{row.payload['consumer']}:{row.period}:r{row.revision}"
