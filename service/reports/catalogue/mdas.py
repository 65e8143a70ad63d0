"""MDAS reports (REFERENCE section 8): hourly consumption, live data, load survey, peak load,
agricultural load. Read `agg_hour` and `agg_network_day` (feeder/DT energy and meters)."""

from service.reports.catalogue.sql import IN_CHOSEN_UNIT
from service.reports.registry import DAY, ORG_UNIT, PERIOD, Chart, Column, Param, Report, register

_HOURLY_SQL = f"""
SELECT t.org_unit_id, t.code AS network, h.hour_end, h.kwh, h.max_kw, h.intervals, h.estimated_count
FROM agg_hour h
JOIN (SELECT 'feeder' AS kind, id, code, org_unit_id FROM feeders
      UNION ALL SELECT 'dtr', id, code, org_unit_id FROM dtrs) t
  ON t.kind = h.subject_kind AND t.id = h.subject_id
JOIN org_units ou ON ou.id = t.org_unit_id
WHERE h.subject_kind IN ('feeder', 'dtr') AND h.hour_end > :start AND h.hour_end <= :end AND {IN_CHOSEN_UNIT}
  AND (:network = '' OR t.code = :network)
"""
NETWORK = Param("network", "Feeder or DT code (blank: all)", "text", default=lambda _: "")
_HOURLY_COLUMNS = (
    Column("network", "Feeder / DT", kind="text"),
    Column("hour_end", "Hour ending", kind="datetime"),
    Column("kwh", "Energy", "kWh", digits=3),
    Column("max_kw", "Highest demand", "kW", digits=3),
    Column("intervals", "Intervals", kind="integer"),
    Column("estimated_count", "Estimated", kind="integer"),
)


def _hourly(name: str, title_en: str, title_hi: str, description: str, day: Param) -> None:
    register(
        Report(
            name=name,
            title_en=title_en,
            title_hi=title_hi,
            source="MDAS",
            description=description,
            params=(day, ORG_UNIT, NETWORK),
            sql=_HOURLY_SQL,
            columns=_HOURLY_COLUMNS,
            order_by=("network", "hour_end"),
            chart=Chart("line", x="hour_end", y=("kwh",)),
        )
    )


_hourly("mdas_hourly_consumption", "MDAS hourly consumption", "एमडीएएस प्रति घंटा खपत",
        "Hourly energy of feeders and DTs (SCADA/SHMS/MDAS) on a day.", DAY)  # fmt: skip
_hourly("live_data_hourly", "Live data (hourly)", "लाइव डेटा (प्रति घंटा)",
        "Today's hours so far for feeders and DTs (default: today, IST).",
        Param("day", "Day", "day", default=lambda today: today.isoformat()))  # fmt: skip

register(
    Report(
        name="load_survey",
        title_en="Load survey",
        title_hi="लोड सर्वेक्षण",
        source="MDAS",
        description="Hourly energy and demand of feeder, DT and HT meters on a day.",
        params=(DAY, ORG_UNIT),
        sql=f"""SELECT m.org_unit_id, m.serial_number AS meter, m.meter_class, h.hour_end, h.kwh, h.kvah,
  h.max_kw, h.intervals
FROM agg_hour h JOIN meters m ON m.id = h.subject_id
JOIN org_units ou ON ou.id = m.org_unit_id
WHERE h.subject_kind = 'meter' AND h.hour_end > :start AND h.hour_end <= :end AND {IN_CHOSEN_UNIT}""",
        columns=(
            Column("meter", "Meter", kind="text"),
            Column("meter_class", "Class", kind="text"),
            Column("hour_end", "Hour ending", kind="datetime"),
            Column("kwh", "Energy", "kWh", digits=3),
            Column("kvah", "Apparent energy", "kVAh", digits=3),
            Column("max_kw", "Highest demand", "kW", digits=3),
            Column("intervals", "Intervals", kind="integer"),
        ),
        order_by=("meter", "hour_end"),
        chart=Chart("line", x="hour_end", y=("kwh",)),
    )
)

_NETWORKS = """(SELECT 'feeder' AS kind, id, code, org_unit_id, feeder_type FROM feeders
  UNION ALL SELECT 'dtr', id, code, org_unit_id, NULL FROM dtrs) t"""

register(
    Report(
        name="peak_load_analysis",
        title_en="Peak load analysis",
        title_hi="अधिकतम भार विश्लेषण",
        source="MDAS",
        description="Each feeder's and DT's highest demand in the month and when it came.",
        sql=f"""SELECT t.org_unit_id, t.code AS network, t.kind AS network_kind, p.peak_kw, p.peak_at, p.days
FROM (SELECT network_kind, network_id, count(*) FILTER (WHERE peak_kw IS NOT NULL) AS days,
        (max(ARRAY[peak_kw, extract(epoch FROM peak_at)]))[1] AS peak_kw,
        to_timestamp((max(ARRAY[peak_kw, extract(epoch FROM peak_at)]))[2]) AS peak_at
      FROM agg_network_day WHERE day BETWEEN :first_day AND :last_day AND peak_kw IS NOT NULL
      GROUP BY network_kind, network_id) p
JOIN {_NETWORKS} ON t.kind = p.network_kind AND t.id = p.network_id
JOIN org_units ou ON ou.id = t.org_unit_id
WHERE {IN_CHOSEN_UNIT}""",
        columns=(
            Column("network", "Feeder / DT", kind="text"),
            Column("network_kind", "Kind", kind="text"),
            Column("peak_kw", "Peak demand", "kW"),
            Column("peak_at", "At", kind="datetime"),
            Column("days", "Days with input", kind="integer"),
        ),
        order_by=("network_kind", "network"),
        chart=Chart("bar", x="network", y=("peak_kw",)),
    )
)

register(
    Report(
        name="agricultural_load_analysis",
        title_en="Agricultural load analysis",
        title_hi="कृषि भार विश्लेषण",
        source="MDAS",
        description="Agricultural feeders: hours of supply per day (hours with energy) and energy.",
        sql=f"""SELECT t.org_unit_id, t.code AS network, count(DISTINCT d.day) AS days,
  count(*) FILTER (WHERE h.kwh > 0) AS supply_hours,
  round(count(*) FILTER (WHERE h.kwh > 0)::numeric / nullif(count(DISTINCT d.day), 0), 2) AS hours_per_day,
  sum(h.kwh) AS kwh, max(h.max_kw) AS peak_kw
FROM agg_hour h
JOIN feeders t ON h.subject_kind = 'feeder' AND t.id = h.subject_id AND t.feeder_type = 'agricultural'
JOIN org_units ou ON ou.id = t.org_unit_id
CROSS JOIN LATERAL (SELECT ((h.hour_end - interval '1 second') AT TIME ZONE 'Asia/Kolkata')::date AS day) d
WHERE h.hour_end > :start AND h.hour_end <= :end AND {IN_CHOSEN_UNIT}
GROUP BY t.org_unit_id, t.code""",
        columns=(
            Column("network", "Feeder", kind="text"),
            Column("days", "Days with data", kind="integer"),
            Column("supply_hours", "Hours of supply", kind="integer"),
            Column("hours_per_day", "Hours a day", "h"),
            Column("kwh", "Energy", "kWh"),
            Column("peak_kw", "Highest demand", "kW"),
        ),
        order_by=("network",),
        params=(PERIOD, ORG_UNIT),
        chart=Chart("bar", x="network", y=("hours_per_day",)),
    )
)
