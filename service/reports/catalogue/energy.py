"""Energy audit (REFERENCE section 7): feeder-wise, DT-wise and rolled up to an org level.

Input is SCADA/SHMS/MDAS energy or the feeder/DT meter; sold is validated meter data of
smart/AMR consumers plus billed units of scalar consumers, with the network as it stood each
day. An input missing on any day of the period leaves the input and the loss empty (shown as
missing), never a zero.
"""

from service.aggregates.network import DIRECT_HT_MIN_KV
from service.reports.catalogue.sql import DAYS_IN_PERIOD, IN_CHOSEN_UNIT, ROLLUP_JOIN
from service.reports.registry import LEVEL, ORG_UNIT, PERIOD, Chart, Column, Param, Report, register


def _network_sql(kind: str, table: str, extra_cols: str) -> str:
    return f"""
WITH per AS (
  SELECT n.network_id,
    count(*) FILTER (WHERE n.input_kwh IS NOT NULL) AS input_days,
    sum(n.input_kwh) AS input_kwh, sum(n.input_intervals) AS input_intervals,
    sum(n.input_expected) FILTER (WHERE n.input_kwh IS NOT NULL) AS input_expected,
    sum(n.input_estimated) AS input_estimated,
    sum(n.sold_metered_kwh + n.sold_scalar_kwh + n.direct_ht_kwh) AS sold_kwh,
    sum(n.sold_metered_kwh) AS sold_metered_kwh, sum(n.sold_scalar_kwh) AS sold_scalar_kwh,
    sum(n.metered_missing + n.scalar_missing) AS consumer_days_missing,
    max(n.metered_consumers + n.scalar_consumers) AS consumers
  FROM agg_network_day n
  WHERE n.network_kind = '{kind}' AND n.day BETWEEN :first_day AND :last_day
  GROUP BY n.network_id
)
SELECT t.org_unit_id, t.code AS network, t.name, ou.code AS org_unit, {extra_cols}
  coalesce(per.consumers, 0) AS consumers,
  CASE WHEN per.input_days = {DAYS_IN_PERIOD} THEN per.input_kwh END AS input_kwh,
  coalesce(per.sold_kwh, 0) AS sold_kwh, coalesce(per.sold_metered_kwh, 0) AS sold_metered_kwh,
  coalesce(per.sold_scalar_kwh, 0) AS sold_scalar_kwh,
  CASE WHEN per.input_days = {DAYS_IN_PERIOD} THEN per.input_kwh - per.sold_kwh END AS loss_kwh,
  CASE WHEN per.input_days = {DAYS_IN_PERIOD} AND per.input_kwh > 0
    THEN 100.0 * (per.input_kwh - per.sold_kwh) / per.input_kwh END AS loss_pct,
  CASE
    WHEN coalesce(per.input_days, 0) = 0 THEN 'input missing'
    WHEN per.input_days < {DAYS_IN_PERIOD}
      THEN 'input missing on ' || ({DAYS_IN_PERIOD} - per.input_days) || ' of ' || {DAYS_IN_PERIOD} || ' days'
    WHEN per.input_estimated > 0
      THEN 'input estimated ' || round(100.0 * per.input_estimated / nullif(per.input_intervals, 0), 1) || ' %'
    WHEN per.input_intervals < per.input_expected
      THEN 'input intervals ' || round(100.0 * per.input_intervals / per.input_expected, 1) || ' %'
    ELSE 'complete'
  END AS input_status,
  coalesce(per.consumer_days_missing, 0) AS consumer_days_missing
FROM {table} t
JOIN org_units ou ON ou.id = t.org_unit_id
LEFT JOIN per ON per.network_id = t.id
WHERE {IN_CHOSEN_UNIT} AND per.network_id IS NOT NULL
"""


_AUDIT_COLUMNS = (
    Column("consumers", "Consumers", kind="integer"),
    Column("input_kwh", "Input", "kWh"),
    Column("sold_kwh", "Sold", "kWh"),
    Column("sold_metered_kwh", "Sold, metered", "kWh"),
    Column("sold_scalar_kwh", "Sold, billed scalar", "kWh"),
    Column("loss_kwh", "Loss", "kWh"),
    Column("loss_pct", "Loss", "%", kind="percent"),
    Column("input_status", "Input", kind="text"),
    Column("consumer_days_missing", "Consumer-days without data", kind="integer"),
)

register(
    Report(
        name="energy_audit_feeder",
        title_en="Energy audit, feeder-wise",
        title_hi="ऊर्जा अंकेक्षण, फीडर-वार",
        source="energy audit",
        description="Each feeder's input against energy sold on it, with the network as it stood each day.",
        sql=_network_sql("feeder", "feeders", "t.feeder_type, t.voltage_kv,"),
        columns=(
            Column("network", "Feeder", kind="text"),
            Column("name", "Name", kind="text"),
            Column("org_unit", "Org unit", kind="text"),
            Column("feeder_type", "Type", kind="text"),
            Column("voltage_kv", "Voltage", "kV", digits=0),
            *_AUDIT_COLUMNS,
        ),
        order_by=("network",),
        params=(PERIOD, ORG_UNIT),
        chart=Chart("bar", x="network", y=("loss_pct",), title="Feeder loss (%)"),
        notes=("Loss is shown only when the input is present on every day of the month.",),
    )
)

register(
    Report(
        name="energy_audit_dt",
        title_en="Energy audit, DT-wise",
        title_hi="ऊर्जा अंकेक्षण, ट्रांसफार्मर-वार",
        source="energy audit",
        description="Each metered distribution transformer's input against energy sold on it.",
        sql=_network_sql("dtr", "dtrs", "t.capacity_kva,"),
        columns=(
            Column("network", "DT", kind="text"),
            Column("name", "Name", kind="text"),
            Column("org_unit", "Org unit", kind="text"),
            Column("capacity_kva", "Capacity", "kVA", digits=0),
            *_AUDIT_COLUMNS,
        ),
        order_by=("network",),
        params=(PERIOD, ORG_UNIT),
        chart=Chart("bar", x="network", y=("loss_pct",), title="DT loss (%)"),
    )
)

# Feeders below 33 kV carry input and sales; from feeders of 33 kV and above only the HT/EHV
# consumers fed straight from them count (their meter is input and sale), since the 11 kV
# feeders below are audited themselves.
ROLLUP_SQL = f"""
WITH feeder_period AS (
  SELECT n.network_id, count(*) FILTER (WHERE n.input_kwh IS NOT NULL) AS input_days,
    sum(n.input_kwh) AS input_kwh, sum(n.sold_metered_kwh + n.sold_scalar_kwh) AS sold_kwh,
    sum(n.direct_ht_kwh) AS direct_ht_kwh
  FROM agg_network_day n
  WHERE n.network_kind = 'feeder' AND n.day BETWEEN :first_day AND :last_day
  GROUP BY n.network_id
),
feeder_audit AS (
  SELECT f.id, f.org_unit_id, f.voltage_kv >= {DIRECT_HT_MIN_KV} AS upstream,
    fp.input_days = {DAYS_IN_PERIOD} AS audited, fp.input_kwh, fp.sold_kwh, fp.direct_ht_kwh
  FROM feeder_period fp JOIN feeders f ON f.id = fp.network_id
)
SELECT anc.id AS org_unit_id, anc.code AS org_unit, anc.name AS org_name,
  count(*) FILTER (WHERE NOT fa.upstream) AS feeders,
  count(*) FILTER (WHERE NOT fa.upstream AND NOT fa.audited) AS feeders_missing_input,
  coalesce(sum(fa.input_kwh) FILTER (WHERE NOT fa.upstream AND fa.audited), 0)
    + coalesce(sum(fa.direct_ht_kwh) FILTER (WHERE fa.upstream), 0) AS input_kwh,
  coalesce(sum(fa.sold_kwh) FILTER (WHERE NOT fa.upstream AND fa.audited), 0)
    + coalesce(sum(fa.direct_ht_kwh), 0) AS sold_kwh,
  coalesce(sum(fa.sold_kwh) FILTER (WHERE NOT fa.upstream AND NOT fa.audited), 0) AS sold_unaudited_kwh
FROM feeder_audit fa
JOIN org_units ou ON ou.id = fa.org_unit_id
{ROLLUP_JOIN}
WHERE {IN_CHOSEN_UNIT}
GROUP BY anc.id, anc.code, anc.name
"""

register(
    Report(
        name="energy_audit_circle",
        title_en="Energy audit, circle-wise",
        title_hi="ऊर्जा अंकेक्षण, वृत्त-वार",
        source="MDAS",
        description="Feeder energy audit rolled up to region, circle or division.",
        sql=f"""
SELECT r.*, r.input_kwh - r.sold_kwh AS loss_kwh,
  CASE WHEN r.input_kwh > 0 THEN 100.0 * (r.input_kwh - r.sold_kwh) / r.input_kwh END AS loss_pct
FROM ({ROLLUP_SQL}) r
""",
        columns=(
            Column("org_unit", "Org unit", kind="text"),
            Column("org_name", "Name", kind="text"),
            Column("feeders", "Feeders", kind="integer"),
            Column("feeders_missing_input", "Feeders with input missing", kind="integer"),
            Column("input_kwh", "Input (audited feeders)", "kWh"),
            Column("sold_kwh", "Sold (audited feeders)", "kWh"),
            Column("loss_kwh", "Loss", "kWh"),
            Column("loss_pct", "Loss", "%", kind="percent"),
            Column("sold_unaudited_kwh", "Sold on feeders with input missing", "kWh"),
        ),
        order_by=("org_unit",),
        params=(PERIOD, ORG_UNIT, LEVEL),
        chart=Chart("bar", x="org_unit", y=("input_kwh", "sold_kwh"), title="Input and sold energy"),
        notes=("Feeders with input missing on any day are counted apart, not as zero input.",),
    )
)

ATC_LEVEL = Param(
    "level",
    "Group by",
    "level",
    default=lambda _: "circle",
    choices=("discom", "region", "circle", "division"),
)

# AT&C = 1 - billing efficiency x collection efficiency (REFERENCE section 7); input from the
# feeder audit, units and amounts from billing's collection data, arrears excluded.
register(
    Report(
        name="atc_loss",
        title_en="AT&C loss",
        title_hi="एटी एंड सी हानि",
        source="energy audit",
        description="Aggregate technical and commercial loss by discom, region, circle or division.",
        sql=f"""
WITH energy AS ({ROLLUP_SQL}),
billed AS (
  SELECT anc.id, sum(b.units_billed_kwh) AS units_billed_kwh, sum(b.amount_billed_inr) AS amount_billed_inr,
    sum(b.amount_collected_inr) AS amount_collected_inr
  FROM billing_collections b
  JOIN org_units ou ON ou.id = b.org_unit_id
  {ROLLUP_JOIN}
  WHERE b.period = to_char(CAST(:first_day AS date), 'YYYY-MM') AND {IN_CHOSEN_UNIT}
  GROUP BY anc.id
),
units AS (
  SELECT coalesce(e.org_unit_id, b.id) AS org_unit_id, e.feeders, e.feeders_missing_input,
    CASE WHEN e.feeders_missing_input = 0 THEN e.input_kwh END AS input_kwh,
    b.units_billed_kwh, b.amount_billed_inr, b.amount_collected_inr
  FROM energy e FULL JOIN billed b ON b.id = e.org_unit_id
)
SELECT u.org_unit_id, o.code AS org_unit, o.name AS org_name, u.feeders, u.feeders_missing_input,
  u.input_kwh, u.units_billed_kwh, u.amount_billed_inr, u.amount_collected_inr,
  100.0 * u.units_billed_kwh::float8 / nullif(u.input_kwh, 0) AS billing_efficiency_pct,
  100.0 * u.amount_collected_inr::float8 / nullif(u.amount_billed_inr::float8, 0) AS collection_efficiency_pct,
  100.0 * (1 - (u.units_billed_kwh::float8 / nullif(u.input_kwh, 0))
    * (u.amount_collected_inr::float8 / nullif(u.amount_billed_inr::float8, 0))) AS atc_loss_pct
FROM units u JOIN org_units o ON o.id = u.org_unit_id
""",
        columns=(
            Column("org_unit", "Org unit", kind="text"),
            Column("org_name", "Name", kind="text"),
            Column("feeders", "Feeders", kind="integer"),
            Column("feeders_missing_input", "Feeders with input missing", kind="integer"),
            Column("input_kwh", "Input", "kWh"),
            Column("units_billed_kwh", "Units billed", "kWh"),
            Column("amount_billed_inr", "Amount billed", "INR"),
            Column("amount_collected_inr", "Amount collected", "INR"),
            Column("billing_efficiency_pct", "Billing efficiency", "%", kind="percent"),
            Column("collection_efficiency_pct", "Collection efficiency", "%", kind="percent"),
            Column("atc_loss_pct", "AT&C loss", "%", kind="percent"),
        ),
        order_by=("org_unit",),
        params=(PERIOD, ORG_UNIT, ATC_LEVEL),
        chart=Chart("bar", x="org_unit", y=("atc_loss_pct",), title="AT&C loss (%)"),
        notes=("Input is shown, and AT&C computed, only where every feeder had input on every day.",),
    )
)
