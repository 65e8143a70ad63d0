"""Many consumers' interval kWh per local day, as a CTE other packages compose into one set-based
statement (the prepaid daily deduction): the same meter-day rule as `series`, for every consumer
a subquery names, instead of one consumer."""

from __future__ import annotations

IST = "Asia/Kolkata"


def consumer_days_cte(consumers_sql: str) -> str:
    """`consumer_days(consumer_id, day, kwh, estimated)`: each consumer of `consumers_sql` (a SELECT
    of consumer ids) with each local day in :cd_first..:cd_last that has a meter-day of a meter
    installed on it that day. `estimated`: a meter-day held estimates or fewer intervals than
    expected. Parameters :cd_first, :cd_last (dates), :cd_span_start, :cd_span_end (their UTC span).
    A day without any meter-day has no row (the caller decides what a missing day is)."""
    return f"""
cd_inst AS (
  SELECT i.consumer_id, i.meter_id, i.installed_at, i.removed_at FROM installations i
  WHERE i.consumer_id IN ({consumers_sql}) AND i.installed_at < :cd_span_end
    AND (i.removed_at IS NULL OR i.removed_at > :cd_span_start)
), consumer_days AS (
  SELECT cd_inst.consumer_id, d.day, sum(d.kwh_import) AS kwh,
    bool_or(d.estimated_count > 0 OR d.intervals < d.expected_intervals OR d.kwh_import IS NULL) AS estimated
  FROM agg_meter_day d JOIN cd_inst ON cd_inst.meter_id = d.meter_id
    AND cd_inst.installed_at < ((d.day + 1)::timestamp AT TIME ZONE '{IST}')
    AND (cd_inst.removed_at IS NULL OR cd_inst.removed_at > (d.day::timestamp AT TIME ZONE '{IST}'))
  WHERE d.day BETWEEN :cd_first AND :cd_last
  GROUP BY cd_inst.consumer_id, d.day
)"""  # noqa: S608 - composed of constant fragments and the caller's constant subquery
