"""Per feeder and DT per day: input (SCADA/SHMS/MDAS energy, else the feeder/DT meter) against
energy sold on it, with the network as it stood at each local day's start (effective-dated
links), so a DT moved mid-month counts on each side for its days."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.aggregates.meters import IST

DIRECT_HT_MIN_KV = 33  # HT/EHV consumers fed straight at 33 kV and above count as input

_DAYS = f"""
days AS (
  SELECT d::date AS day, (d::timestamp AT TIME ZONE '{IST}') AS day_start,
    ((d + interval '1 day')::timestamp AT TIME ZONE '{IST}') AS day_end,
    extract(day FROM date_trunc('month', d) + interval '1 month' - interval '1 day')::int AS month_days,
    to_char(d, 'YYYY-MM') AS period
  FROM generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') d
)"""

# Consumers on each network each day: on a DT (and through it on the DT's feeder that day) or
# straight on a feeder.
_SUPPLY = """
supply AS (
  SELECT days.day, days.day_start, days.day_end, days.month_days, days.period, l.consumer_id,
    l.dtr_id, coalesce(l.feeder_id, df.feeder_id) AS feeder_id, l.feeder_id IS NOT NULL AS direct
  FROM days
  JOIN consumer_supply_links l ON l.valid_from <= days.day_start
    AND (l.valid_to IS NULL OR l.valid_to > days.day_start)
  LEFT JOIN dtr_feeder_links df ON df.dtr_id = l.dtr_id AND df.valid_from <= days.day_start
    AND (df.valid_to IS NULL OR df.valid_to > days.day_start)
)"""

_SOLD_SQL = f"""
WITH {_DAYS}, {_SUPPLY},
consumer_day AS (
  SELECT s.day, s.consumer_id, s.dtr_id, s.feeder_id, s.direct, s.month_days, s.period,
    c.connection_type, bool_or(m.meter_class = 'scalar') AS scalar,
    sum(a.kwh_import) AS kwh, count(a.meter_id) AS with_data
  FROM supply s
  JOIN consumers c ON c.id = s.consumer_id
  JOIN installations i ON i.consumer_id = s.consumer_id AND i.installed_at < s.day_end
    AND (i.removed_at IS NULL OR i.removed_at > s.day_start)
  JOIN meters m ON m.id = i.meter_id
  LEFT JOIN agg_meter_day a ON a.meter_id = i.meter_id AND a.day = s.day
  WHERE s.feeder_id = ANY(:feeders)
  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
),
sold AS (
  SELECT cd.*, f.voltage_kv >= {DIRECT_HT_MIN_KV} AND cd.direct AND cd.connection_type = 'HT' AS direct_ht,
    CASE WHEN cd.scalar THEN b.units_billed_kwh::float8 / cd.month_days END AS scalar_kwh,
    b.consumer_id IS NOT NULL AS billed
  FROM consumer_day cd
  JOIN feeders f ON f.id = cd.feeder_id
  LEFT JOIN billing_collections b ON cd.scalar AND b.consumer_id = cd.consumer_id AND b.period = cd.period
),
per_network AS (
  SELECT 'feeder' AS kind, feeder_id AS id, day, NULL::int AS parent, kwh, scalar, direct_ht,
    scalar_kwh, billed, with_data FROM sold
  UNION ALL
  SELECT 'dtr', dtr_id, day, feeder_id, kwh, scalar, direct_ht, scalar_kwh, billed, with_data
  FROM sold WHERE dtr_id IS NOT NULL
)
INSERT INTO agg_network_day (network_kind, network_id, day, org_unit_id, feeder_id,
  input_intervals, input_expected, input_estimated, sold_metered_kwh, sold_scalar_kwh,
  direct_ht_kwh, metered_consumers, metered_missing, scalar_consumers, scalar_missing, updated_at)
SELECT p.kind, p.id, p.day, min(coalesce(f.org_unit_id, t.org_unit_id)), min(p.parent), 0, 0, 0,
  coalesce(sum(p.kwh) FILTER (WHERE NOT p.scalar AND NOT p.direct_ht), 0),
  coalesce(sum(p.scalar_kwh), 0),
  coalesce(sum(p.kwh) FILTER (WHERE p.direct_ht), 0),
  count(*) FILTER (WHERE NOT p.scalar), count(*) FILTER (WHERE NOT p.scalar AND p.with_data = 0),
  count(*) FILTER (WHERE p.scalar), count(*) FILTER (WHERE p.scalar AND NOT p.billed), now()
FROM per_network p
LEFT JOIN feeders f ON p.kind = 'feeder' AND f.id = p.id
LEFT JOIN dtrs t ON p.kind = 'dtr' AND t.id = p.id
GROUP BY p.kind, p.id, p.day
-- A network-day exists once data came for it (a consumer's or its input), so rebuilding from
-- scratch gives the same rows as keeping up batch by batch.
HAVING count(*) FILTER (WHERE p.with_data > 0 OR p.billed) > 0
ON CONFLICT (network_kind, network_id, day) DO UPDATE SET org_unit_id = excluded.org_unit_id,
  feeder_id = excluded.feeder_id, sold_metered_kwh = excluded.sold_metered_kwh,
  sold_scalar_kwh = excluded.sold_scalar_kwh, direct_ht_kwh = excluded.direct_ht_kwh,
  metered_consumers = excluded.metered_consumers, metered_missing = excluded.metered_missing,
  scalar_consumers = excluded.scalar_consumers, scalar_missing = excluded.scalar_missing,
  updated_at = excluded.updated_at
"""

# Input per network-day: SCADA/SHMS/MDAS energy where it came, else the meter installed on the
# feeder or DT. Failed values are not energy; a day without either keeps NULL (missing).
_INPUT_SQL = f"""
WITH {_DAYS},
targets AS (
  SELECT 'feeder' AS kind, unnest(CAST(:feeders AS int[])) AS id
  UNION ALL SELECT 'dtr', unnest(CAST(:dtrs AS int[]))
),
scada AS (
  SELECT n.network_kind AS kind, n.network_id AS id,
    DATE '1970-01-01' + ((date_part('epoch', n.interval_end)::bigint + 19799) / 86400)::int AS day,
    sum(n.value) FILTER (WHERE n.quality <> 'failed') AS kwh,
    count(*) FILTER (WHERE n.quality <> 'failed') AS intervals,
    1440 / max(n.interval_minutes) AS expected,
    count(*) FILTER (WHERE n.quality = 'estimated') AS estimated,
    max(ARRAY[n.value * 60.0 / n.interval_minutes, extract(epoch FROM n.interval_end)])
      FILTER (WHERE n.quality <> 'failed') AS peak
  FROM network_energy n
  WHERE n.channel = 'kwh' AND n.interval_end > :start AND n.interval_end <= :end
    AND ((n.network_kind = 'feeder' AND n.network_id = ANY(:feeders))
      OR (n.network_kind = 'dtr' AND n.network_id = ANY(:dtrs)))
  GROUP BY 1, 2, 3
),
metered AS (
  SELECT CASE WHEN i.feeder_id IS NOT NULL THEN 'feeder' ELSE 'dtr' END AS kind,
    coalesce(i.feeder_id, i.dtr_id) AS id, a.day, sum(a.kwh_import) AS kwh,
    sum(a.intervals - a.failed_count - a.raw_count) AS intervals, max(a.expected_intervals) AS expected,
    sum(a.estimated_count) AS estimated, max(ARRAY[a.md_kw, extract(epoch FROM a.md_kw_at)]) AS peak
  FROM installations i
  JOIN days ON i.installed_at < days.day_end AND (i.removed_at IS NULL OR i.removed_at > days.day_start)
  JOIN agg_meter_day a ON a.meter_id = i.meter_id AND a.day = days.day
  WHERE i.feeder_id = ANY(:feeders) OR i.dtr_id = ANY(:dtrs)
  GROUP BY 1, 2, 3
),
input AS (
  SELECT coalesce(s.kind, m.kind) AS kind, coalesce(s.id, m.id) AS id, coalesce(s.day, m.day) AS day,
    CASE WHEN s.intervals > 0 THEN 'scada' WHEN m.intervals > 0 THEN 'meter' END AS source,
    CASE WHEN s.intervals > 0 THEN s.kwh WHEN m.intervals > 0 THEN m.kwh END AS kwh,
    CASE WHEN s.intervals > 0 THEN s.intervals ELSE coalesce(m.intervals, 0) END AS intervals,
    coalesce(s.expected, m.expected, 0) AS expected,
    CASE WHEN s.intervals > 0 THEN s.estimated ELSE coalesce(m.estimated, 0) END AS estimated,
    CASE WHEN s.intervals > 0 THEN s.peak ELSE m.peak END AS peak
  FROM scada s FULL JOIN metered m ON m.kind = s.kind AND m.id = s.id AND m.day = s.day
)
INSERT INTO agg_network_day AS a (network_kind, network_id, day, org_unit_id, feeder_id,
  input_kwh, input_source, input_intervals, input_expected, input_estimated, peak_kw, peak_at,
  sold_metered_kwh, sold_scalar_kwh, direct_ht_kwh, metered_consumers, metered_missing,
  scalar_consumers, scalar_missing, updated_at)
SELECT i.kind, i.id, i.day, coalesce(f.org_unit_id, t.org_unit_id), df.feeder_id, i.kwh, i.source,
  i.intervals, i.expected, i.estimated, i.peak[1], to_timestamp(i.peak[2]), 0, 0, 0, 0, 0, 0, 0, now()
FROM input i
JOIN targets USING (kind, id)
JOIN days ON days.day = i.day
LEFT JOIN feeders f ON i.kind = 'feeder' AND f.id = i.id
LEFT JOIN dtrs t ON i.kind = 'dtr' AND t.id = i.id
LEFT JOIN dtr_feeder_links df ON i.kind = 'dtr' AND df.dtr_id = i.id
  AND df.valid_from <= days.day_start AND (df.valid_to IS NULL OR df.valid_to > days.day_start)
WHERE i.source IS NOT NULL
ON CONFLICT (network_kind, network_id, day) DO UPDATE SET input_kwh = excluded.input_kwh,
  input_source = excluded.input_source, input_intervals = excluded.input_intervals,
  input_expected = excluded.input_expected, input_estimated = excluded.input_estimated,
  peak_kw = excluded.peak_kw, peak_at = excluded.peak_at, updated_at = excluded.updated_at
"""

_HOUR_SQL = """
INSERT INTO agg_hour AS a (subject_kind, subject_id, hour_end, kwh, kvah, kwh_export, max_kw,
  intervals, estimated_count, updated_at)
SELECT n.network_kind, n.network_id,
  to_timestamp(((date_part('epoch', n.interval_end)::bigint + 19799) / 3600 + 1) * 3600 - 19800),
  sum(n.value) FILTER (WHERE n.channel = 'kwh' AND n.quality <> 'failed'),
  sum(n.value) FILTER (WHERE n.channel = 'kvah' AND n.quality <> 'failed'),
  sum(n.value) FILTER (WHERE n.channel = 'kwh_export' AND n.quality <> 'failed'),
  max(n.value * 60.0 / n.interval_minutes) FILTER (WHERE n.channel = 'kwh' AND n.quality <> 'failed'),
  count(*) FILTER (WHERE n.channel = 'kwh')::smallint,
  count(*) FILTER (WHERE n.channel = 'kwh' AND n.quality = 'estimated')::smallint, now()
FROM network_energy n
WHERE n.interval_end > :start AND n.interval_end <= :end AND n.channel IN ('kwh', 'kvah', 'kwh_export')
  AND ((n.network_kind = 'feeder' AND n.network_id = ANY(:feeders))
    OR (n.network_kind = 'dtr' AND n.network_id = ANY(:dtrs)))
GROUP BY 1, 2, 3
ON CONFLICT (subject_kind, subject_id, hour_end) DO UPDATE SET kwh = excluded.kwh,
  kvah = excluded.kvah, kwh_export = excluded.kwh_export, max_kw = excluded.max_kw,
  intervals = excluded.intervals, estimated_count = excluded.estimated_count,
  updated_at = excluded.updated_at
"""

_DTRS_OF_FEEDERS = """
SELECT DISTINCT dtr_id FROM dtr_feeder_links
WHERE feeder_id = ANY(:feeders) AND valid_from < :end AND (valid_to IS NULL OR valid_to > :start)
"""


def refresh_network(
    session: Session, feeder_ids: list[int], first_day: date, last_day: date, start: datetime, end: datetime
) -> int:
    """Rebuild the network-days of these feeders and of every DT on them in the span."""
    if not feeder_ids:
        return 0
    params: dict[str, object] = {
        "feeders": sorted(set(feeder_ids)),
        "first": first_day,
        "last": last_day,
        "start": start,
        "end": end,
    }
    params["dtrs"] = list(session.scalars(text(_DTRS_OF_FEEDERS), params))
    session.execute(text("SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)"))
    session.execute(
        text(
            "DELETE FROM agg_network_day WHERE day BETWEEN :first AND :last AND ("
            " (network_kind = 'feeder' AND network_id = ANY(:feeders))"
            " OR (network_kind = 'dtr' AND (feeder_id = ANY(:feeders)"
            " OR (feeder_id IS NULL AND network_id = ANY(:dtrs)))))"
        ),
        params,
    )
    session.execute(text(_SOLD_SQL), params)
    result = session.execute(text(_INPUT_SQL), params)
    session.execute(text(_HOUR_SQL), params)
    session.execute(
        text(
            "DELETE FROM agg_hour WHERE hour_end > :start AND hour_end <= :end AND updated_at < now()"
            " AND ((subject_kind = 'feeder' AND subject_id = ANY(:feeders))"
            " OR (subject_kind = 'dtr' AND subject_id = ANY(:dtrs)))"
        ),
        params,
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
