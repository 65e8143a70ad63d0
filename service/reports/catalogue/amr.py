"""AMR reports (REFERENCE section 8): consumption analysis."""

from service.reports.catalogue.sql import IN_CHOSEN_UNIT, ROLLUP_JOIN
from service.reports.registry import LEVEL, ORG_UNIT, PERIOD, Chart, Column, Report, register

AMR_CLASSES = "('lt_amr', 'ht_amr', 'ltct')"

register(
    Report(
        name="amr_consumption",
        title_en="AMR consumption analysis",
        title_hi="एएमआर खपत विश्लेषण",
        source="AMR",
        description="Energy of LT/HT AMR meters per org unit and meter class for a month.",
        params=(PERIOD, ORG_UNIT, LEVEL),
        sql=f"""
SELECT anc.id AS org_unit_id, anc.code AS org_unit, anc.name AS org_name, d.meter_class,
  sum(d.meters) AS meter_days, sum(d.kwh_import) AS kwh_import, sum(d.kwh_export) AS kwh_export,
  sum(d.kvah_import) AS kvah_import,
  CASE WHEN sum(d.kvah_import) > 0 THEN sum(d.kwh_import) / sum(d.kvah_import) END AS pf,
  max(d.max_md_kw) AS max_md_kw,
  100.0 * sum(d.intervals) / nullif(sum(d.expected_intervals), 0) AS completeness_pct,
  100.0 * sum(d.estimated_count) / nullif(sum(d.intervals), 0) AS estimated_pct
FROM agg_org_day d
JOIN org_units ou ON ou.id = d.org_unit_id
{ROLLUP_JOIN}
WHERE d.day BETWEEN :first_day AND :last_day AND d.meter_class IN {AMR_CLASSES} AND {IN_CHOSEN_UNIT}
GROUP BY anc.id, anc.code, anc.name, d.meter_class
""",
        columns=(
            Column("org_unit", "Org unit", kind="text"),
            Column("org_name", "Name", kind="text"),
            Column("meter_class", "Meter class", kind="text"),
            Column("meter_days", "Meter-days", kind="integer"),
            Column("kwh_import", "Import", "kWh"),
            Column("kwh_export", "Export", "kWh"),
            Column("kvah_import", "Import", "kVAh"),
            Column("pf", "Average PF", digits=3),
            Column("max_md_kw", "Highest MD", "kW"),
            Column("completeness_pct", "Intervals received", "%", kind="percent"),
            Column("estimated_pct", "Estimated", "%", kind="percent"),
        ),
        order_by=("org_unit", "meter_class"),
        chart=Chart("stacked", x="org_unit", y=("kwh_import",), title="Import energy by org unit"),
    )
)
