"""Meter asset analytics (issue 12): meters by make and status, warranty expiring in a month,
failure rate by make, firmware and batch. Asset rows are few (one per meter) and read directly."""

from service.reports.catalogue.sql import IN_CHOSEN_UNIT, ROLLUP_JOIN
from service.reports.registry import LEVEL, ORG_UNIT, PERIOD, Chart, Column, Report, register

# A meter has failed once it was ever faulty (sent back to the vendor or scrapped after it).
_FAILED = """EXISTS (SELECT 1 FROM meter_asset_statuses h WHERE h.meter_id = a.meter_id
    AND h.status IN ('faulty', 'returned_to_vendor'))"""
_ASSETS = f"""FROM meter_assets a
JOIN meters m ON m.id = a.meter_id
JOIN org_units ou ON ou.id = m.org_unit_id
{ROLLUP_JOIN}
WHERE {IN_CHOSEN_UNIT}"""

register(
    Report(
        name="meters_by_make_status",
        title_en="Meters by make and status",
        title_hi="निर्माता एवं स्थिति अनुसार मीटर",
        source="assets",
        description="Meter assets per org unit and make: in store, issued, installed, removed, faulty, "
        "returned to the vendor, scrapped (the status today).",
        params=(ORG_UNIT, LEVEL),
        sql=f"""SELECT anc.id AS org_unit_id, anc.code AS org_unit, m.make,
  count(*) AS assets,
  count(*) FILTER (WHERE a.status = 'in_store') AS in_store,
  count(*) FILTER (WHERE a.status = 'issued') AS issued,
  count(*) FILTER (WHERE a.status = 'installed') AS installed,
  count(*) FILTER (WHERE a.status = 'removed') AS removed,
  count(*) FILTER (WHERE a.status = 'faulty') AS faulty,
  count(*) FILTER (WHERE a.status = 'returned_to_vendor') AS returned_to_vendor,
  count(*) FILTER (WHERE a.status = 'scrapped') AS scrapped
{_ASSETS}
GROUP BY anc.id, anc.code, m.make""",
        columns=(
            Column("org_unit", "Org unit", kind="text"),
            Column("make", "Make", kind="text"),
            Column("assets", "Assets", kind="integer"),
            Column("in_store", "In store", kind="integer"),
            Column("issued", "Issued", kind="integer"),
            Column("installed", "Installed", kind="integer"),
            Column("removed", "Removed", kind="integer"),
            Column("faulty", "Faulty", kind="integer"),
            Column("returned_to_vendor", "Returned to vendor", kind="integer"),
            Column("scrapped", "Scrapped", kind="integer"),
        ),
        order_by=("org_unit", "make"),
        chart=Chart("stacked", x="make", y=("in_store", "installed", "removed", "faulty")),
    )
)

register(
    Report(
        name="warranty_expiring",
        title_en="Meter warranty expiring",
        title_hi="मीटर वारंटी समाप्ति",
        source="assets",
        description="Meter assets (not scrapped) whose warranty ends in the month, per org unit, make "
        "and model, with how many of them hang on a wall.",
        params=(PERIOD, ORG_UNIT, LEVEL),
        sql=f"""SELECT anc.id AS org_unit_id, anc.code AS org_unit, m.make, coalesce(m.model, '') AS model,
  count(*) AS expiring, count(*) FILTER (WHERE a.status = 'installed') AS installed,
  min(m.warranty_end) AS first_end, max(m.warranty_end) AS last_end
{_ASSETS} AND m.warranty_end BETWEEN :first_day AND :last_day AND a.status <> 'scrapped'
GROUP BY anc.id, anc.code, m.make, coalesce(m.model, '')""",
        columns=(
            Column("org_unit", "Org unit", kind="text"),
            Column("make", "Make", kind="text"),
            Column("model", "Model", kind="text"),
            Column("expiring", "Warranty ends", kind="integer"),
            Column("installed", "Of them installed", kind="integer"),
            Column("first_end", "First end", kind="date"),
            Column("last_end", "Last end", kind="date"),
        ),
        order_by=("org_unit", "make", "model"),
        chart=Chart("bar", x="make", y=("expiring",)),
    )
)

register(
    Report(
        name="meter_failure_rate",
        title_en="Meter failure rate by make, firmware and batch",
        title_hi="निर्माता, फर्मवेयर एवं बैच अनुसार मीटर विफलता दर",
        source="assets",
        description="Meter assets per make, firmware and vendor batch, how many were ever found faulty "
        "(or returned to the vendor), and that share.",
        params=(ORG_UNIT, LEVEL),
        sql=f"""SELECT anc.id AS org_unit_id, anc.code AS org_unit, m.make, coalesce(m.firmware, '') AS firmware,
  coalesce(a.batch, '') AS batch, count(*) AS assets, count(*) FILTER (WHERE {_FAILED}) AS failed,
  100.0 * count(*) FILTER (WHERE {_FAILED}) / count(*) AS failure_rate
{_ASSETS}
GROUP BY anc.id, anc.code, m.make, coalesce(m.firmware, ''), coalesce(a.batch, '')""",
        columns=(
            Column("org_unit", "Org unit", kind="text"),
            Column("make", "Make", kind="text"),
            Column("firmware", "Firmware", kind="text"),
            Column("batch", "Batch", kind="text"),
            Column("assets", "Assets", kind="integer"),
            Column("failed", "Ever faulty", kind="integer"),
            Column("failure_rate", "Failure rate", kind="percent"),
        ),
        order_by=("org_unit", "make", "firmware", "batch"),
        chart=Chart("bar", x="make", y=("failure_rate",)),
    )
)
