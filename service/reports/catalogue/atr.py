"""ATR reports (REFERENCE section 8). An ATR (action taken report) case is opened by a rule
whose action is `open_atr_case`; until revenue protection keeps cases of its own, these read
the VEE findings that open them, so they show what was found, and empty where nothing was."""

from service.reports.catalogue.sql import IN_CHOSEN_UNIT, ROLLUP_JOIN
from service.reports.registry import LEVEL, ORG_UNIT, PERIOD, Chart, Column, Param, Report, register

_FINDINGS = f"""
FROM vee_failures v
JOIN org_units ou ON ou.id = v.org_unit_id
WHERE v.action = 'open_atr_case' AND v.ts >= :start AND v.ts < :end AND {IN_CHOSEN_UNIT}
"""

_COUNTS = (
    Column("findings", "Findings", kind="integer"),
    Column("meters", "Meters", kind="integer"),
)


def _by(name: str, title_en: str, title_hi: str, description: str, key_sql: str, key_col: Column) -> None:
    register(
        Report(
            name=name,
            title_en=title_en,
            title_hi=title_hi,
            source="AMR",
            description=description,
            sql=f"""SELECT v.org_unit_id, ou.code AS org_unit, {key_sql} AS {key_col.key},
  count(*) AS findings, count(DISTINCT v.meter_id) AS meters {_FINDINGS}
GROUP BY v.org_unit_id, ou.code, {key_sql}""",
            columns=(Column("org_unit", "Org unit", kind="text"), key_col, *_COUNTS),
            order_by=("org_unit", key_col.key),
            chart=Chart("stacked", x="org_unit", y=("findings",)),
        )
    )


_by("atr_event_wise", "ATR event-wise", "एटीआर घटना-वार", "ATR findings by the rule (event) that raised them.",
    "v.rule_id", Column("rule_id", "Rule / event", kind="text"))  # fmt: skip
_by("atr_validation_wise", "ATR validation-wise", "एटीआर सत्यापन-वार",
    "ATR findings by validation type.", "v.rule_type", Column("rule_type", "Validation", kind="text"))  # fmt: skip


def _rollup(name: str, title_en: str, title_hi: str, level: str, source: str = "AMR") -> None:
    register(
        Report(
            name=name,
            title_en=title_en,
            title_hi=title_hi,
            source=source,
            description=f"ATR findings summed per {level}.",
            params=(
                PERIOD,
                ORG_UNIT,
                Param("level", "Group by", "level", default=lambda _: level, choices=(level,)),
            ),
            sql=f"""SELECT anc.id AS org_unit_id, anc.code AS org_unit, anc.name AS org_name,
  count(*) AS findings, count(DISTINCT v.meter_id) AS meters,
  count(*) FILTER (WHERE v.severity = 'fail') AS failures
FROM vee_failures v
JOIN org_units ou ON ou.id = v.org_unit_id
{ROLLUP_JOIN}
WHERE v.action = 'open_atr_case' AND v.ts >= :start AND v.ts < :end AND {IN_CHOSEN_UNIT}
GROUP BY anc.id, anc.code, anc.name""",
            columns=(
                Column("org_unit", "Org unit", kind="text"),
                Column("org_name", "Name", kind="text"),
                *_COUNTS,
                Column("failures", "Severity fail", kind="integer"),
            ),
            order_by=("org_unit",),
            chart=Chart("bar", x="org_unit", y=("findings",)),
        )
    )


_rollup("atr_summary_vigilance", "ATR summary for vigilance", "सतर्कता हेतु एटीआर सारांश", "circle")
_rollup("atr_circle_wise", "Circle-wise ATR", "वृत्त-वार एटीआर", "circle")
_rollup("atr_division_wise", "Division-wise ATR", "संभाग-वार एटीआर", "division")

register(
    Report(
        name="amr_event_analysis",
        title_en="AMR event analysis",
        title_hi="एएमआर घटना विश्लेषण",
        source="AMR",
        description="Meter events (IS 15959 codes) per org unit level and code in the month.",
        params=(PERIOD, ORG_UNIT, LEVEL),
        sql=f"""SELECT anc.id AS org_unit_id, anc.code AS org_unit, e.code AS event_code,
  count(*) AS events, count(DISTINCT e.meter_id) AS meters,
  count(*) FILTER (WHERE e.restored_at IS NULL) AS open_events
FROM meter_events e
JOIN meters m ON m.id = e.meter_id
JOIN org_units ou ON ou.id = m.org_unit_id
{ROLLUP_JOIN}
WHERE e.occurred_at >= :start AND e.occurred_at < :end AND {IN_CHOSEN_UNIT}
GROUP BY anc.id, anc.code, e.code""",
        columns=(
            Column("org_unit", "Org unit", kind="text"),
            Column("event_code", "Event code", kind="integer"),
            Column("events", "Events", kind="integer"),
            Column("meters", "Meters", kind="integer"),
            Column("open_events", "Not restored", kind="integer"),
        ),
        order_by=("org_unit", "event_code"),
        chart=Chart("stacked", x="org_unit", y=("events",)),
        notes=("Events are read from the event store by the month's span (one partition).",),
    )
)
