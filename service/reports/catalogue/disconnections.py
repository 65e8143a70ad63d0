"""Disconnection and reconnection summary (issue 11): DO/RC orders of the month per org unit."""

from service.reports.catalogue.sql import IN_CHOSEN_UNIT, ROLLUP_JOIN
from service.reports.registry import LEVEL, ORG_UNIT, PERIOD, Chart, Column, Report, register

_DO = "l.kind = 'disconnect'"
_RECONNECTED = "l.kind = 'reconnect' AND o.state = 'done'"
_MINUTES = "EXTRACT(EPOCH FROM o.finished_at - o.created_at) / 60"

# The order rows are few (a DO list is thousands a month, not millions): read directly.
register(
    Report(
        name="disconnection_summary",
        title_en="Disconnection and reconnection summary",
        title_hi="विच्छेदन एवं पुनः संयोजन सारांश",
        source="disconnection",
        description="DO/RC-list consumers received in the month: ordered, dropped, approved, done, "
        "failed, pending, cancelled on payment, reconnected and the time to reconnect.",
        params=(PERIOD, ORG_UNIT, LEVEL),
        sql=f"""SELECT anc.id AS org_unit_id, anc.code AS org_unit,
  count(*) FILTER (WHERE {_DO}) AS ordered,
  count(*) FILTER (WHERE {_DO} AND o.state = 'dropped') AS dropped,
  count(*) FILTER (WHERE {_DO} AND o.state IN ('commanded', 'done', 'failed')) AS approved,
  count(*) FILTER (WHERE {_DO} AND o.state = 'done') AS done,
  count(*) FILTER (WHERE {_DO} AND o.state = 'failed') AS failed,
  count(*) FILTER (WHERE {_DO} AND o.state IN ('pending', 'commanded')) AS pending,
  count(*) FILTER (WHERE {_DO} AND o.state = 'cancelled') AS cancelled_paid,
  count(*) FILTER (WHERE {_RECONNECTED}) AS reconnected,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY {_MINUTES}) FILTER (WHERE {_RECONNECTED}) AS reconnect_p50_min,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY {_MINUTES}) FILTER (WHERE {_RECONNECTED}) AS reconnect_p95_min
FROM disconnection_orders o
JOIN disconnection_lists l ON l.id = o.list_id
JOIN org_units ou ON ou.id = o.org_unit_id
{ROLLUP_JOIN}
WHERE o.state <> 'rejected' AND o.created_at >= :start AND o.created_at < :end AND {IN_CHOSEN_UNIT}
GROUP BY anc.id, anc.code""",
        columns=(
            Column("org_unit", "Org unit", kind="text"),
            Column("ordered", "Ordered", kind="integer"),
            Column("dropped", "Dropped", kind="integer"),
            Column("approved", "Approved", kind="integer"),
            Column("done", "Disconnected", kind="integer"),
            Column("failed", "Failed", kind="integer"),
            Column("pending", "Pending", kind="integer"),
            Column("cancelled_paid", "Cancelled (paid)", kind="integer"),
            Column("reconnected", "Reconnected", kind="integer"),
            Column("reconnect_p50_min", "Time to reconnect, median", "min"),
            Column("reconnect_p95_min", "Time to reconnect, 95th percentile", "min"),
        ),
        order_by=("org_unit",),
        chart=Chart("stacked", x="org_unit", y=("done", "failed", "pending", "dropped")),
    )
)
