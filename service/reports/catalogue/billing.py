"""Billing-side reports (REFERENCE section 8): zero consumption, scalar consumption and validation."""

from service.reports.catalogue.sql import IN_CHOSEN_UNIT, ROLLUP_JOIN
from service.reports.registry import LEVEL, ORG_UNIT, PERIOD, Chart, Column, Report, register

register(
    Report(
        name="zero_consumption",
        title_en="Zero consumption",
        title_hi="शून्य खपत",
        source="billing",
        description="Consumer meters that recorded no energy in the month (interval or scalar).",
        sql=f"""
SELECT m.org_unit_id, ou.code AS org_unit, m.serial_number AS meter, c.ivrs_number AS consumer,
  m.meter_class, z.days_with_data, z.kwh, z.basis
FROM (
  SELECT meter_id, count(*) AS days_with_data, coalesce(sum(kwh_import), 0) AS kwh, 'intervals' AS basis
  FROM agg_meter_day WHERE day BETWEEN :first_day AND :last_day
  GROUP BY meter_id HAVING coalesce(sum(kwh_import), 0) = 0
  UNION ALL
  SELECT meter_id, count(*), coalesce(sum(consumption_kwh), 0), 'scalar read'
  FROM agg_scalar_read WHERE month = :first_day
  GROUP BY meter_id HAVING count(consumption_kwh) > 0 AND coalesce(sum(consumption_kwh), 0) = 0
) z
JOIN meters m ON m.id = z.meter_id
JOIN org_units ou ON ou.id = m.org_unit_id
LEFT JOIN installations i ON i.meter_id = m.id AND i.consumer_id IS NOT NULL
  AND i.installed_at < :end AND (i.removed_at IS NULL OR i.removed_at > :start)
LEFT JOIN consumers c ON c.id = i.consumer_id
WHERE {IN_CHOSEN_UNIT} AND m.meter_class NOT IN ('feeder', 'dt')
""",
        columns=(
            Column("org_unit", "Org unit", kind="text"),
            Column("meter", "Meter", kind="text"),
            Column("consumer", "Consumer (IVRS)", kind="text"),
            Column("meter_class", "Meter class", kind="text"),
            Column("days_with_data", "Days with data", kind="integer"),
            Column("kwh", "Consumption", "kWh"),
            Column("basis", "Basis", kind="text"),
        ),
        order_by=("org_unit", "meter"),
        params=(PERIOD, ORG_UNIT),
        chart=None,
    )
)

register(
    Report(
        name="scalar_consumption_analysis",
        title_en="Scalar consumption analysis",
        title_hi="स्केलर खपत विश्लेषण",
        source="billing",
        description="Monthly scalar reads per org unit: reads, consumption and its spread.",
        params=(PERIOD, ORG_UNIT, LEVEL),
        sql=f"""SELECT anc.id AS org_unit_id, anc.code AS org_unit, count(*) AS reads,
  count(s.consumption_kwh) AS with_consumption, coalesce(sum(s.consumption_kwh), 0) AS kwh,
  avg(s.consumption_kwh) AS avg_kwh, max(s.consumption_kwh) AS max_kwh,
  count(*) FILTER (WHERE s.consumption_kwh = 0) AS zero_reads
FROM agg_scalar_read s
JOIN org_units ou ON ou.id = s.org_unit_id
{ROLLUP_JOIN}
WHERE s.month = :first_day AND {IN_CHOSEN_UNIT}
GROUP BY anc.id, anc.code""",
        columns=(
            Column("org_unit", "Org unit", kind="text"),
            Column("reads", "Reads", kind="integer"),
            Column("with_consumption", "Reads with consumption", kind="integer"),
            Column("kwh", "Consumption", "kWh"),
            Column("avg_kwh", "Average", "kWh"),
            Column("max_kwh", "Highest", "kWh"),
            Column("zero_reads", "Zero consumption", kind="integer"),
        ),
        order_by=("org_unit",),
        chart=Chart("bar", x="org_unit", y=("kwh",)),
    )
)

register(
    Report(
        name="scalar_validation_analysis",
        title_en="Scalar validation analysis",
        title_hi="स्केलर सत्यापन विश्लेषण",
        source="billing",
        description="Monthly scalar reads per org unit by reading status and VEE quality.",
        params=(PERIOD, ORG_UNIT, LEVEL),
        sql=f"""SELECT anc.id AS org_unit_id, anc.code AS org_unit, s.reading_status, s.quality,
  count(*) AS reads, count(DISTINCT s.meter_id) AS meters
FROM agg_scalar_read s
JOIN org_units ou ON ou.id = s.org_unit_id
{ROLLUP_JOIN}
WHERE s.month = :first_day AND {IN_CHOSEN_UNIT}
GROUP BY anc.id, anc.code, s.reading_status, s.quality""",
        columns=(
            Column("org_unit", "Org unit", kind="text"),
            Column("reading_status", "Reading status", kind="text"),
            Column("quality", "VEE quality", kind="text"),
            Column("reads", "Reads", kind="integer"),
            Column("meters", "Meters", kind="integer"),
        ),
        order_by=("org_unit", "reading_status", "quality"),
        chart=Chart("stacked", x="org_unit", y=("reads",)),
    )
)
