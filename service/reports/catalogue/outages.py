"""Reliability (IEEE 1366, REFERENCE section 7) and the outage-failure monitoring report, from
the outages inferred from meter power events (service/outages)."""

from service.reports.registry import ORG_UNIT, PERIOD, Chart, Column, Param, Report, register

BY = Param("by", "Group by", "choice", default=lambda _: "feeder", choices=("feeder", "division", "circle"))
FAILURE_BY = Param("by", "Outages of", "choice", default=lambda _: "feeder", choices=("feeder", "dt"))

# An outage's length in the month: open ones count up to the month's end.
_SECONDS = "EXTRACT(EPOCH FROM (least(coalesce(o.ended_at, CAST(:end AS timestamptz)), :end) - o.started_at))"
# Sustained interruptions only: 5 minutes and longer (REFERENCE section 7).
_SUSTAINED = f"o.cause = 'inferred' AND o.started_at >= :start AND o.started_at < :end AND {_SECONDS} >= 300"

# Customers served: consumers on each feeder (directly or through its DTs) at the month's start.
_SERVED = """SELECT f.code AS feeder, f.org_unit_id, count(DISTINCT l.consumer_id) AS consumers
  FROM consumer_supply_links l
  LEFT JOIN dtr_feeder_links df ON df.dtr_id = l.dtr_id AND df.valid_from <= :start
    AND (df.valid_to IS NULL OR df.valid_to > :start)
  JOIN feeders f ON f.id = coalesce(l.feeder_id, df.feeder_id)
  WHERE l.valid_from <= :start AND (l.valid_to IS NULL OR l.valid_to > :start)
  GROUP BY f.code, f.org_unit_id"""

_HIT = f"""SELECT o.feeder_code AS feeder, count(*) AS interruptions,
    sum(o.consumers_affected) AS customer_interruptions,
    sum(o.consumers_affected * {_SECONDS} / 60) AS customer_minutes
  FROM outages o WHERE {_SUSTAINED} GROUP BY o.feeder_code"""

register(
    Report(
        name="reliability_indices",
        title_en="Reliability indices (SAIFI, SAIDI, CAIDI)",
        title_hi="विश्वसनीयता सूचकांक (SAIFI, SAIDI, CAIDI)",
        source="outages",
        description="Sustained interruptions (5 minutes and longer) of the month from meter power "
        "events: SAIFI = customer interruptions / customers served, SAIDI = customer-minutes / "
        "customers served, CAIDI = SAIDI / SAIFI; by feeder, division or circle.",
        params=(PERIOD, ORG_UNIT, BY),
        sql=f"""SELECT anc.id AS org_unit_id,
  CASE WHEN :by = 'feeder' THEN s.feeder ELSE anc.code END AS subject,
  sum(s.consumers) AS customers_served,
  coalesce(sum(h.interruptions), 0) AS interruptions,
  coalesce(sum(h.customer_interruptions), 0) AS customer_interruptions,
  round(coalesce(sum(h.customer_minutes), 0)::numeric, 1) AS customer_minutes,
  round((coalesce(sum(h.customer_interruptions), 0) / nullif(sum(s.consumers), 0))::numeric, 4) AS saifi,
  round((coalesce(sum(h.customer_minutes), 0) / nullif(sum(s.consumers), 0))::numeric, 2) AS saidi_min,
  round((sum(h.customer_minutes) / nullif(sum(h.customer_interruptions), 0))::numeric, 2) AS caidi_min
FROM ({_SERVED}) s
JOIN org_units ou ON ou.id = s.org_unit_id
JOIN org_units anc ON CASE WHEN :by = 'feeder' THEN anc.id = ou.id
  ELSE anc.level = :by AND ou.path LIKE anc.path || '%' END
LEFT JOIN ({_HIT}) h ON h.feeder = s.feeder
WHERE ou.path LIKE :org_path || '%'
GROUP BY anc.id, CASE WHEN :by = 'feeder' THEN s.feeder ELSE anc.code END""",
        columns=(
            Column("subject", "Feeder / org unit", kind="text"),
            Column("customers_served", "Customers served", kind="integer"),
            Column("interruptions", "Sustained interruptions", kind="integer"),
            Column("customer_interruptions", "Customer interruptions", kind="integer"),
            Column("customer_minutes", "Customer-minutes", "min"),
            Column("saifi", "SAIFI", "interruptions per customer"),
            Column("saidi_min", "SAIDI", "min"),
            Column("caidi_min", "CAIDI", "min"),
        ),
        order_by=("subject",),
        chart=Chart("bar", x="subject", y=("saidi_min",)),
        notes=(
            "Customers served are the consumers on each feeder (directly or through its DTs) at the "
            "month's start; an outage still open counts to the month's end.",
        ),
    )
)

register(
    Report(
        name="outage_failure_monitoring",
        title_en="Outage failure monitoring",
        title_hi="आउटेज विफलता निगरानी",
        source="outages",
        description="Per feeder or DT: outages inferred from meter power events in the month, hours "
        "off, consumers affected (summed over its outages) and the longest outage.",
        params=(PERIOD, ORG_UNIT, FAILURE_BY),
        sql=f"""SELECT o.org_unit_id, o.subject, max(o.feeder_code) AS feeder,
  count(*) AS outages,
  round((sum({_SECONDS}) / 3600)::numeric, 2) AS hours_off,
  sum(o.consumers_affected) AS consumers_affected,
  round((max({_SECONDS}) / 3600)::numeric, 2) AS longest_hours,
  count(*) FILTER (WHERE o.ended_at IS NULL) AS still_open
FROM outages o JOIN org_units ou ON ou.id = o.org_unit_id
WHERE o.cause = 'inferred' AND o.level = :by AND o.started_at >= :start AND o.started_at < :end
  AND ou.path LIKE :org_path || '%'
GROUP BY o.org_unit_id, o.subject""",
        columns=(
            Column("subject", "Feeder / DT", kind="text"),
            Column("feeder", "Feeder", kind="text"),
            Column("outages", "Outages", kind="integer"),
            Column("hours_off", "Hours off", "h"),
            Column("consumers_affected", "Consumers affected", kind="integer"),
            Column("longest_hours", "Longest", "h"),
            Column("still_open", "Still open", kind="integer"),
        ),
        order_by=("subject",),
        chart=Chart("bar", x="subject", y=("hours_off",)),
    )
)
