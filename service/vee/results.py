"""Writing VEE results: quality flags, failure rows (replacing a range), estimates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, insert, text
from sqlalchemy.orm import Session

from rules.engine import Evaluation
from rules.estimation import Estimates
from rules.frames import Frame
from service.readings.store import raw_connection
from service.vee.loading import QUALITY_NAMES, STORED_ROWS, Meters
from service.vee.models import VeeFailure

ESTIMATE_SOURCE = "vee-estimate"


def _utc(seconds: Any) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)


def write_quality(
    session: Session,
    table: str,
    frame: Frame,
    meters: Meters,
    quality: npt.NDArray[np.int8],
    span: tuple[datetime, datetime],
) -> int:
    """Set each row's flag (all channels of a (meter, ts)); estimated and edited rows keep theirs.

    The statement carries the meters and the time span of the changed rows, so PostgreSQL
    prunes the partitions outside it and reads the rest through the primary key's prefix
    (DESIGN: the cost of a batch never depends on the size of the store).
    """
    changed = quality != frame.quality_in
    if not changed.any():
        return 0
    at = "interval_end" if table == "interval_readings" else "read_at"
    extra = "" if table == "interval_readings" else " AND t.tod_zone = 0"
    stored = frame.cache.get(STORED_ROWS) if table == "interval_readings" else None
    if stored is not None:
        return _write_interval_quality(session, frame, meters, quality, changed, stored, span)
    ids = meters.ids[frame.meter[changed]]
    return _rowcount(
        session,
        f"UPDATE {table} t SET quality = u.q"  # noqa: S608 - fixed identifiers
        " FROM unnest(%(m)s::int[], %(ts)s::bigint[], %(q)s::text[]) AS u(m, ts, q)"
        f" WHERE t.meter_id = u.m AND t.{at} = to_timestamp(u.ts){extra}"
        f" AND t.meter_id = ANY(%(ids)s::int[]) AND t.{at} > %(start)s AND t.{at} <= %(end)s"
        " AND t.quality NOT IN ('estimated', 'edited') AND t.quality <> u.q",
        {
            "m": ids.tolist(),
            "ts": frame.ts[changed].tolist(),
            "q": QUALITY_NAMES[quality[changed]].tolist(),
            **_bounds(ids, span),
        },
    )


def _bounds(ids: npt.NDArray[Any], span: tuple[datetime, datetime]) -> dict[str, Any]:
    return {"ids": np.unique(ids).tolist(), "start": span[0], "end": span[1]}


def _rowcount(session: Session, sql: str, params: dict[str, Any]) -> int:
    """Run one statement on the session's DBAPI cursor (no SQLAlchemy result set-up)."""
    cur = raw_connection(session).cursor()
    try:
        cur.execute(sql, params)
        return int(cur.rowcount)
    finally:
        cur.close()


def _write_interval_quality(
    session: Session,
    frame: Frame,
    meters: Meters,
    quality: npt.NDArray[np.int8],
    changed: npt.NDArray[np.bool_],
    stored: tuple[npt.NDArray[np.int64], npt.NDArray[Any], npt.NDArray[np.int64]],
    span: tuple[datetime, datetime],
) -> int:
    """The flags of the stored rows of changed (meter, ts), each row named by its whole key:
    without the channel, each probe would read every row of the meter in the partition (the
    cost grew with the store: measured minutes a batch at 10 M rows)."""
    meter_idx, channel, ts = stored
    keys = (frame.meter << 32) | frame.ts
    at_row = np.searchsorted(keys, (meter_idx << 32) | ts)
    pick = changed[at_row]
    if not pick.any():
        return 0
    ids = meters.ids[meter_idx[pick]]
    return _rowcount(
        session,
        "UPDATE interval_readings t SET quality = u.q"
        " FROM unnest(%(m)s::int[], %(ch)s::text[], %(ts)s::bigint[], %(q)s::text[]) AS u(m, ch, ts, q)"
        " WHERE t.meter_id = u.m AND t.channel = u.ch AND t.interval_end = to_timestamp(u.ts)"
        " AND t.meter_id = ANY(%(ids)s::int[]) AND t.interval_end > %(start)s AND t.interval_end <= %(end)s"
        " AND t.quality NOT IN ('estimated', 'edited') AND t.quality <> u.q",
        {
            "m": ids.tolist(),
            "ch": channel[pick].tolist(),
            "ts": ts[pick].tolist(),
            "q": QUALITY_NAMES[quality[at_row[pick]]].tolist(),
            **_bounds(ids, span),
        },
    )


def replace_failures(
    session: Session,
    data_kind: str,
    meters: Meters,
    start: datetime,
    end: datetime,
    evaluation: Evaluation,
    batch_id: int | None,
) -> int:
    """Failures of the range are replaced, never added to: a re-run leaves one row per finding."""
    session.execute(
        delete(VeeFailure).where(
            VeeFailure.data_kind == data_kind,
            VeeFailure.meter_id.in_(meters.ids.tolist()),
            VeeFailure.ts > start,
            VeeFailure.ts <= end,
        )
    )
    rows: list[dict[str, Any]] = []
    for finding in evaluation.findings:
        rule, hits = finding.rule, finding.hits
        ids = meters.ids[hits.meter]
        org = meters.org_unit_id[hits.meter]
        for i in range(len(hits)):
            details = {k: _plain(v[i]) for k, v in hits.extra.items()}
            ts_end = details.pop("ts_end", None)
            rows.append(
                dict(
                    rule_id=rule.id,
                    rule_type=rule.type,
                    severity=rule.severity,
                    action=rule.action,
                    data_kind=data_kind,
                    meter_id=int(ids[i]),
                    org_unit_id=int(org[i]),
                    ts=_utc(hits.ts[i]),
                    ts_end=None if ts_end is None else _utc(ts_end),
                    value_seen=_finite(hits.value[i]),
                    reference_value=_finite(hits.reference[i]),
                    details=details,
                    parameters=rule.parameters,
                    batch_id=batch_id,
                )
            )
    if rows:
        session.execute(insert(VeeFailure), rows)
    return len(rows)


def _finite(value: Any) -> float | None:
    v = float(value)
    return v if np.isfinite(v) else None


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_interval_estimates(
    session: Session, meters: Meters, estimates: Estimates, frame: Frame, batch_id: int
) -> int:
    """Insert estimates into gaps and over failed rows (never over real valid, edited data)."""
    if len(estimates) == 0:
        return 0
    keys = (frame.meter << 32) | frame.ts
    est_keys = (estimates.meter << 32) | estimates.ts
    pos = np.searchsorted(keys, est_keys)
    pos_c = np.minimum(pos, max(len(keys) - 1, 0))
    existing = (pos < len(keys)) & (keys[pos_c] == est_keys) if len(keys) else np.zeros(len(est_keys), bool)
    original = np.where(existing, frame.channels["kwh"][pos_c] if len(keys) else np.nan, np.nan)
    names: Any = QUALITY_NAMES[frame.quality_in[pos_c]] if len(keys) else None
    original_q = np.where(existing, names, None)
    params = {
        "m": meters.ids[estimates.meter].tolist(),
        "ts": estimates.ts.tolist(),
        "v": estimates.value.tolist(),
        "min": (meters.table.interval_minutes[estimates.meter]).tolist(),
        "method": [str(m) for m in estimates.method],
        "ov": [None if np.isnan(v) else float(v) for v in original],
        "oq": [None if q is None else str(q) for q in original_q],
        "batch": batch_id,
    }
    written = session.execute(
        text(
            "INSERT INTO interval_readings AS t (meter_id, channel, interval_end, value, interval_minutes,"
            " quality, source, batch_id)"
            " SELECT u.m, 'kwh', to_timestamp(u.ts), u.v, u.min, 'estimated', :source, :batch"
            " FROM unnest(CAST(:m AS int[]), CAST(:ts AS bigint[]), CAST(:v AS float8[]),"
            " CAST(:min AS int[])) AS u(m, ts, v, min)"
            " ON CONFLICT (meter_id, channel, interval_end) DO UPDATE SET value = excluded.value,"
            " quality = 'estimated', source = excluded.source WHERE t.quality = 'failed'"
        ),
        {**params, "source": ESTIMATE_SOURCE},
    ).rowcount  # type: ignore[attr-defined]
    session.execute(
        text(
            "INSERT INTO vee_estimates (meter_id, channel, ts, value, method, original_value, original_quality)"
            " SELECT u.m, 'kwh', to_timestamp(u.ts), u.v, u.method, u.ov, u.oq"
            " FROM unnest(CAST(:m AS int[]), CAST(:ts AS bigint[]), CAST(:v AS float8[]),"
            " CAST(:method AS text[]), CAST(:ov AS float8[]), CAST(:oq AS text[])) AS u(m, ts, v, method, ov, oq)"
            " JOIN interval_readings r ON r.meter_id = u.m AND r.channel = 'kwh'"
            " AND r.interval_end = to_timestamp(u.ts) AND r.quality = 'estimated'"
            " AND r.meter_id = ANY(:ids) AND r.interval_end BETWEEN :first AND :last"
            " ON CONFLICT (meter_id, channel, ts) DO UPDATE SET value = excluded.value, method = excluded.method"
        ),
        {
            **params,
            "ids": np.unique(meters.ids[estimates.meter]).tolist(),
            "first": _utc(estimates.ts.min()),
            "last": _utc(estimates.ts.max()),
        },
    )
    return int(written)


def drop_superseded_estimates(session: Session, meters: Meters, start: datetime, end: datetime) -> int:
    """Real data that arrived late replaced an estimate: forget how the estimate was made."""
    result = session.execute(
        text(
            "DELETE FROM vee_estimates e USING interval_readings r"
            " WHERE e.meter_id = ANY(:ids) AND e.ts > :start AND e.ts <= :end"
            " AND r.meter_id = e.meter_id AND r.channel = e.channel AND r.interval_end = e.ts"
            " AND r.meter_id = ANY(:ids) AND r.interval_end > :start AND r.interval_end <= :end"
            " AND r.quality <> 'estimated'"
        ),
        {"ids": meters.ids.tolist(), "start": start, "end": end},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
