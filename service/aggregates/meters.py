"""Per meter per day (and per hour for feeder/DT/HT meters) from intervals, scalar reads with
their consumption: set-based INSERT ... SELECT ... GROUP BY ... ON CONFLICT for a meter set
and a span of local days; every statement carries the span so partitions prune."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from rules.determinants import DEFAULT_TOD_ZONES, TodZone
from rules.frames import QUALITIES

# Energy of these qualities is counted (as billing counts it); raw and failed are not.
COUNTED = ("valid", "estimated", "edited", "suspect")
HOURLY_CLASSES = ("feeder", "dt", "ht_amr")
IST = "Asia/Kolkata"
# A local day by integer arithmetic on the epoch (IST has no daylight saving): a fraction of
# the cost of a time-zone conversion per row; an interval ending 00:00 closes the day before.
EPOCH = "date_part('epoch', r.interval_end)::bigint"
LOCAL_DAY_OF_EPOCH = "(DATE '1970-01-01' + ((r.e + 19799) / 86400)::int)"


def zone_case(zones: tuple[TodZone, ...] = DEFAULT_TOD_ZONES, minute: str = "r.minute") -> str:
    """SQL zone number of an interval by the local minute it starts at; later zones win."""
    arms = []
    for z in reversed(zones):
        if z.start_minute < z.end_minute:
            cond = f"{minute} >= {z.start_minute} AND {minute} < {z.end_minute}"
        else:
            cond = f"({minute} >= {z.start_minute} OR {minute} < {z.end_minute})"
        arms.append(f"WHEN {cond} THEN {z.zone}")
    return "CASE " + " ".join(arms) + " ELSE 1 END"


# Local minute of day at which an interval starts (IST is UTC+05:30 all year).
_START_MINUTE = "(((r.e - r.interval_minutes * 60 + 19800) % 86400) / 60)"
# Demand and its time in one bigint, so one max() finds both: kW to 0.001, then the epoch.
_PEAK_KEY = "max(round(r.value * 60000.0 / r.interval_minutes)::bigint * 10000000000 + r.e)"


def _zone_array(channel: str, zones: tuple[TodZone, ...]) -> str:
    n = max(z.zone for z in zones)
    arms = ", ".join(
        f"coalesce(sum(v) FILTER (WHERE channel = '{channel}' AND counted AND zone = {i}), 0)"
        for i in range(1, n + 1)
    )
    return f"ARRAY[{arms}]::float8[]"


def _counted(channel: str) -> str:
    return f"sum(v) FILTER (WHERE channel = '{channel}' AND counted)"


def _quality_count(quality: str) -> str:
    return f"coalesce(sum(n) FILTER (WHERE channel = 'kwh' AND quality = '{quality}'), 0)::smallint"


def meter_day_sql(zones: tuple[TodZone, ...] = DEFAULT_TOD_ZONES) -> str:
    """Two levels: intervals to (meter, day, zone, channel, quality) with four plain aggregates
    each (the cost of a plain GROUP BY), then those few rows per meter-day pivoted."""
    counted = ", ".join(f"'{q}'" for q in COUNTED)
    assert set(COUNTED) <= set(QUALITIES)
    return f"""
INSERT INTO agg_meter_day AS a (
  meter_id, day, org_unit_id, meter_class, kwh_import, kwh_export, kvah_import, kvah_export,
  kvarh_lag, kvarh_lead, kwh_by_zone, kvah_by_zone, md_kw, md_kw_at, md_kva, md_kva_at, pf,
  interval_minutes, intervals, expected_intervals, valid_count, estimated_count, edited_count,
  failed_count, suspect_count, raw_count, estimated_share, updated_at)
SELECT g.meter_id, g.day, m.org_unit_id, m.meter_class, g.kwh_import, g.kwh_export, g.kvah_import,
  g.kvah_export, g.kvarh_lag, g.kvarh_lead, g.kwh_by_zone, g.kvah_by_zone,
  g.md_kw, to_timestamp(g.kw_key % 10000000000), g.md_kva, to_timestamp(g.kva_key % 10000000000),
  CASE WHEN g.kvah_import > 0 THEN least(g.kwh_import / g.kvah_import, 1.0) END,
  g.interval_minutes, g.intervals, (1440 / g.interval_minutes)::smallint, g.valid_count,
  g.estimated_count, g.edited_count, g.failed_count, g.suspect_count, g.raw_count,
  CASE WHEN g.intervals > 0 THEN g.estimated_count::float8 / g.intervals ELSE 0 END, now()
FROM (
  SELECT meter_id, day,
    {_counted("kwh")} AS kwh_import, {_counted("kwh_export")} AS kwh_export,
    {_counted("kvah")} AS kvah_import, {_counted("kvah_export")} AS kvah_export,
    {_counted("kvarh_lag")} AS kvarh_lag, {_counted("kvarh_lead")} AS kvarh_lead,
    {_zone_array("kwh", zones)} AS kwh_by_zone, {_zone_array("kvah", zones)} AS kvah_by_zone,
    max(peak) FILTER (WHERE channel = 'kwh' AND counted) AS md_kw,
    max(peak_key) FILTER (WHERE channel = 'kwh' AND counted) AS kw_key,
    max(peak) FILTER (WHERE channel = 'kvah' AND counted) AS md_kva,
    max(peak_key) FILTER (WHERE channel = 'kvah' AND counted) AS kva_key,
    max(minutes) AS interval_minutes,
    coalesce(sum(n) FILTER (WHERE channel = 'kwh'), 0)::smallint AS intervals,
    {_quality_count("valid")} AS valid_count, {_quality_count("estimated")} AS estimated_count,
    {_quality_count("edited")} AS edited_count, {_quality_count("failed")} AS failed_count,
    {_quality_count("suspect")} AS suspect_count, {_quality_count("raw")} AS raw_count
  FROM (
    SELECT r.meter_id, r.day, r.zone, r.channel, r.quality, r.quality IN ({counted}) AS counted,
      sum(r.value) AS v, count(*) AS n, max(r.value * 60.0 / r.interval_minutes) AS peak,
      {_PEAK_KEY} AS peak_key, max(r.interval_minutes) AS minutes
    FROM (
      SELECT r.*, {LOCAL_DAY_OF_EPOCH} AS day, {zone_case(zones, _START_MINUTE)} AS zone
      FROM (
        SELECT r.meter_id, r.channel, r.quality, r.value, r.interval_minutes, {EPOCH} AS e
        FROM interval_readings r
        WHERE r.meter_id = ANY(:ids) AND r.interval_end > :start AND r.interval_end <= :end
          AND r.channel IN ('kwh', 'kwh_export', 'kvah', 'kvah_export', 'kvarh_lag', 'kvarh_lead')
      ) r
    ) r
    GROUP BY r.meter_id, r.day, r.zone, r.channel, r.quality
  ) z
  GROUP BY meter_id, day
) g JOIN meters m ON m.id = g.meter_id
WHERE g.intervals > 0
ON CONFLICT (meter_id, day) DO UPDATE SET
  org_unit_id = excluded.org_unit_id, meter_class = excluded.meter_class,
  kwh_import = excluded.kwh_import, kwh_export = excluded.kwh_export,
  kvah_import = excluded.kvah_import, kvah_export = excluded.kvah_export,
  kvarh_lag = excluded.kvarh_lag, kvarh_lead = excluded.kvarh_lead,
  kwh_by_zone = excluded.kwh_by_zone, kvah_by_zone = excluded.kvah_by_zone,
  md_kw = excluded.md_kw, md_kw_at = excluded.md_kw_at, md_kva = excluded.md_kva,
  md_kva_at = excluded.md_kva_at, pf = excluded.pf, interval_minutes = excluded.interval_minutes,
  intervals = excluded.intervals, expected_intervals = excluded.expected_intervals,
  valid_count = excluded.valid_count, estimated_count = excluded.estimated_count,
  edited_count = excluded.edited_count, failed_count = excluded.failed_count,
  suspect_count = excluded.suspect_count, raw_count = excluded.raw_count,
  estimated_share = excluded.estimated_share, updated_at = excluded.updated_at
"""


# India's offset is half an hour: hours are buckets of the IST clock (epoch + 5:30), not UTC's.
_HOUR_SQL = f"""
INSERT INTO agg_hour AS a (subject_kind, subject_id, hour_end, kwh, kvah, kwh_export, max_kw,
  intervals, estimated_count, updated_at)
SELECT 'meter', r.meter_id, to_timestamp(((date_part('epoch', r.interval_end)::bigint + 19799) / 3600 + 1) * 3600 - 19800),
  sum(r.value) FILTER (WHERE r.channel = 'kwh' AND r.quality IN {COUNTED}),
  sum(r.value) FILTER (WHERE r.channel = 'kvah' AND r.quality IN {COUNTED}),
  sum(r.value) FILTER (WHERE r.channel = 'kwh_export' AND r.quality IN {COUNTED}),
  max(r.value * 60.0 / r.interval_minutes) FILTER (WHERE r.channel = 'kwh' AND r.quality IN {COUNTED}),
  count(*) FILTER (WHERE r.channel = 'kwh')::smallint,
  count(*) FILTER (WHERE r.channel = 'kwh' AND r.quality = 'estimated')::smallint, now()
FROM interval_readings r
WHERE r.meter_id = ANY(:ids) AND r.interval_end > :start AND r.interval_end <= :end
  AND r.channel IN ('kwh', 'kvah', 'kwh_export')
GROUP BY 1, 2, 3
ON CONFLICT (subject_kind, subject_id, hour_end) DO UPDATE SET kwh = excluded.kwh,
  kvah = excluded.kvah, kwh_export = excluded.kwh_export, max_kw = excluded.max_kw,
  intervals = excluded.intervals, estimated_count = excluded.estimated_count,
  updated_at = excluded.updated_at
"""

# Consumption of a scalar read = (read - the last earlier read with a value) x multiplier, the
# earlier read taken inside the installation the read falls in; the first read of an
# installation counts from its initial reading, and an old meter's final read at its removal
# counts from its last read (issue 12: both meters across a replacement, one statement that
# reports, the consumer views and determinants all read). A status-only read has none. The
# look-back bounds the search; the (redundant) upper bound lets PostgreSQL prune partitions.
_SCALAR_SQL = f"""
INSERT INTO agg_scalar_read AS a (meter_id, read_at, month, org_unit_id, reading_kwh, previous_at,
  consumption_kwh, reading_status, quality, updated_at)
SELECT r.meter_id, r.read_at, date_trunc('month', r.read_at AT TIME ZONE '{IST}')::date,
  m.org_unit_id, r.value, p.read_at,
  CASE WHEN r.value IS NOT NULL AND r.quality <> 'failed' AND coalesce(p.value, i.initial_kwh) IS NOT NULL
    THEN greatest(r.value - coalesce(p.value, i.initial_kwh), 0) * m.multiplying_factor END,
  coalesce(r.reading_status, 'normal'), r.quality, now()
FROM register_reads r
JOIN meters m ON m.id = r.meter_id
LEFT JOIN LATERAL (
  SELECT i.installed_at, i.initial_kwh FROM installations i
  WHERE i.meter_id = r.meter_id AND i.installed_at < r.read_at
    AND (i.removed_at IS NULL OR i.removed_at >= r.read_at)
  ORDER BY i.installed_at DESC LIMIT 1
) i ON true
LEFT JOIN LATERAL (
  SELECT p.value, p.read_at FROM register_reads p
  WHERE p.meter_id = r.meter_id AND p.kind = 'scalar' AND p.channel = 'kwh' AND p.tod_zone = 0
    AND p.read_at < r.read_at AND p.read_at > :lookback AND p.read_at <= :scalar_end AND p.value IS NOT NULL
    AND p.quality <> 'failed' AND (i.installed_at IS NULL OR p.read_at >= i.installed_at)
  ORDER BY p.read_at DESC LIMIT 1
) p ON true
WHERE r.meter_id = ANY(:ids) AND r.kind = 'scalar' AND r.channel = 'kwh' AND r.tod_zone = 0
  AND r.read_at > :start AND r.read_at <= :scalar_end
ON CONFLICT (meter_id, read_at) DO UPDATE SET month = excluded.month,
  org_unit_id = excluded.org_unit_id, reading_kwh = excluded.reading_kwh,
  previous_at = excluded.previous_at, consumption_kwh = excluded.consumption_kwh,
  reading_status = excluded.reading_status, quality = excluded.quality,
  updated_at = excluded.updated_at
"""
SCALAR_LOOKBACK = timedelta(days=800)
SCALAR_FOLLOW = timedelta(days=62)


def refresh_meters(
    session: Session, meter_ids: list[int], first_day: date, last_day: date, start: datetime, end: datetime
) -> int:
    """Rebuild the meter-days (and meter-hours, scalar reads) of `meter_ids` in the span."""
    params = {"ids": meter_ids, "start": start, "end": end, "first": first_day, "last": last_day}
    # Measured (benchmarks/reports.py): JIT spent 26 s compiling this wide aggregate for a
    # 62 s statement, and 4 MB of work_mem spilled the hash aggregate to disk in 9 batches.
    session.execute(text("SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)"))
    written = session.execute(text(meter_day_sql()), params).rowcount  # type: ignore[attr-defined]
    # Rows rewritten above carry this transaction's now(); older ones lost their intervals.
    session.execute(
        text(
            "DELETE FROM agg_meter_day WHERE meter_id = ANY(:ids) AND day BETWEEN :first AND :last"
            " AND updated_at < now()"
        ),
        params,
    )
    # Only feeder/DT/HT meters have hours: a batch of smart meters skips the statement (its
    # join on meter class, planned before the new rows had statistics, cost seconds a batch).
    hourly = list(
        session.scalars(
            text(f"SELECT id FROM meters WHERE id = ANY(:ids) AND meter_class IN {HOURLY_CLASSES}"),
            {"ids": meter_ids},
        )
    )
    if hourly:
        session.execute(text(_HOUR_SQL), {**params, "ids": hourly})
    session.execute(
        text(
            "DELETE FROM agg_hour WHERE subject_kind = 'meter' AND subject_id = ANY(:ids)"
            " AND hour_end > :start AND hour_end <= :end AND updated_at < now()"
        ),
        params,
    )
    # A read's consumption depends on the read before it: the reads after the span follow.
    scalar = {**params, "lookback": start - SCALAR_LOOKBACK, "scalar_end": end + SCALAR_FOLLOW}
    session.execute(
        text(_SCALAR_SQL),
        scalar,
    )
    session.execute(
        text(
            "DELETE FROM agg_scalar_read WHERE meter_id = ANY(:ids) AND read_at > :start"
            " AND read_at <= :scalar_end AND updated_at < now()"
        ),
        scalar,
    )
    return int(written)


def refresh_scalar_reads(session: Session, meter_ids: list[int], since: datetime) -> None:
    """Recount the scalar reads of `meter_ids` after `since` (their installations changed: a read's
    consumption depends on the installation it falls in). Only `agg_scalar_read` is touched."""
    end = datetime.now(UTC) + SCALAR_FOLLOW
    params = {"ids": meter_ids, "start": since - timedelta(seconds=1), "lookback": since - SCALAR_LOOKBACK,
              "scalar_end": end}  # fmt: skip
    session.execute(text(_SCALAR_SQL), params)
