"""Per org unit (the meter's) per meter class per day and month, from the meter-days."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

_DAY_SQL = """
INSERT INTO agg_org_day (org_unit_id, day, meter_class, meters, zero_meters, kwh_import, kwh_export,
  kvah_import, max_md_kw, intervals, expected_intervals, estimated_count, failed_count, updated_at)
SELECT org_unit_id, day, meter_class, count(*), count(*) FILTER (WHERE coalesce(kwh_import, 0) = 0),
  coalesce(sum(kwh_import), 0), coalesce(sum(kwh_export), 0), coalesce(sum(kvah_import), 0),
  max(md_kw), sum(intervals), sum(expected_intervals), sum(estimated_count), sum(failed_count), now()
FROM agg_meter_day
WHERE day BETWEEN :first AND :last AND org_unit_id = ANY(:orgs)
GROUP BY 1, 2, 3
"""

_MONTH_SQL = """
INSERT INTO agg_org_month (org_unit_id, month, meter_class, meter_days, kwh_import, kwh_export,
  kvah_import, max_md_kw, intervals, expected_intervals, estimated_count, failed_count, updated_at)
SELECT org_unit_id, date_trunc('month', day)::date, meter_class, sum(meters), sum(kwh_import),
  sum(kwh_export), sum(kvah_import), max(max_md_kw), sum(intervals), sum(expected_intervals),
  sum(estimated_count), sum(failed_count), now()
FROM agg_org_day
WHERE day >= :month_first AND day < :month_end AND org_unit_id = ANY(:orgs)
GROUP BY 1, 2, 3
"""


def orgs_of(session: Session, meter_ids: list[int], first_day: date, last_day: date) -> set[int]:
    """Org units holding these meters' days now (before a refresh: the ones they may leave)."""
    rows = session.scalars(
        text(
            "SELECT DISTINCT org_unit_id FROM agg_meter_day WHERE meter_id = ANY(:ids)"
            " AND day BETWEEN :first AND :last"
        ),
        {"ids": meter_ids, "first": first_day, "last": last_day},
    )
    return set(rows)


def refresh_orgs(session: Session, org_ids: set[int], first_day: date, last_day: date) -> None:
    if not org_ids:
        return
    month_first = first_day.replace(day=1)
    month_end = (last_day.replace(day=28) + timedelta(days=4)).replace(day=1)
    params = {
        "orgs": sorted(org_ids),
        "first": first_day,
        "last": last_day,
        "month_first": month_first,
        "month_end": month_end,
    }
    session.execute(
        text("DELETE FROM agg_org_day WHERE org_unit_id = ANY(:orgs) AND day BETWEEN :first AND :last"),
        params,
    )
    session.execute(text(_DAY_SQL), params)
    session.execute(
        text(
            "DELETE FROM agg_org_month WHERE org_unit_id = ANY(:orgs)"
            " AND month >= :month_first AND month < :month_end"
        ),
        params,
    )
    session.execute(text(_MONTH_SQL), params)
