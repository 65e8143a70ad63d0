"""ATR reports (REFERENCE section 8) over the revenue-protection cases (`service/revenue`): each
monthly (period) and daily (day). A case belongs to the period it was opened in; event-wise and
validation-wise count the cases whose evidence (a rule's finding) falls on the period's days.
Outcomes are as recorded by the field officer's action taken; `pending` = not closed yet."""

from collections.abc import Callable
from datetime import date
from typing import Any

from service.reports.catalogue.sql import IN_CHOSEN_UNIT, ROLLUP_JOIN
from service.reports.registry import DAY, LEVEL, ORG_UNIT, PERIOD, Chart, Column, Param, Report, register

# Outcome counts over cases `c` (each case once).
_OUTCOMES = """count(DISTINCT c.id) AS cases,
  count(DISTINCT c.id) FILTER (WHERE c.outcome = 'theft_confirmed') AS theft_confirmed,
  count(DISTINCT c.id) FILTER (WHERE c.outcome = 'meter_faulty') AS meter_faulty,
  count(DISTINCT c.id) FILTER (WHERE c.outcome = 'no_issue') AS no_issue,
  count(DISTINCT c.id) FILTER (WHERE c.status <> 'closed') AS pending,
  count(DISTINCT c.id) FILTER (WHERE c.escalated_at IS NOT NULL) AS escalated"""
_OUTCOME_COLUMNS = (
    Column("cases", "Cases", kind="integer"),
    Column("theft_confirmed", "Theft confirmed", kind="integer"),
    Column("meter_faulty", "Meter faulty", kind="integer"),
    Column("no_issue", "No issue", kind="integer"),
    Column("pending", "Pending", kind="integer"),
    Column("escalated", "Escalated", kind="integer"),
)
_ASSESSMENT = Column("assessment_inr", "Assessment", "INR")
_EVIDENCE = f"""FROM atr_evidence e
JOIN atr_cases c ON c.id = e.case_id
JOIN org_units ou ON ou.id = c.org_unit_id
WHERE e.day >= :first_day AND e.day <= :last_day AND {IN_CHOSEN_UNIT}"""
_OPENED = f"""FROM atr_cases c
JOIN org_units ou ON ou.id = c.org_unit_id
{{rollup}}
WHERE c.opened_at >= :start AND c.opened_at < :end AND {IN_CHOSEN_UNIT}"""
# (name suffix, parameter, English and Hindi title suffix, the word for the span)
_PERIODS = (("", PERIOD, "monthly", "मासिक", "month"), ("_daily", DAY, "daily", "दैनिक", "day"))


def _each_period(
    name: str, title_en: str, title_hi: str, build: Callable[[Param, str], dict[str, Any]]
) -> None:
    """The monthly and the daily report; `build(period parameter, "month" | "day")` gives the rest."""
    for suffix, period, every_en, every_hi, word in _PERIODS:
        register(Report(name=name + suffix, title_en=f"{title_en} ({every_en})", title_hi=f"{title_hi} ({every_hi})",
                        source="AMR", **build(period, word)))  # fmt: skip


def _by(
    name: str, title_en: str, title_hi: str, description: str, key_sql: str, keys: tuple[Column, ...]
) -> None:
    names = ", ".join(k.key for k in keys)
    _each_period(name, title_en, title_hi, lambda period, word: dict(
        description=description + f" Evidence on the {word}'s days.",
        params=(period, ORG_UNIT),
        sql=f"""SELECT c.org_unit_id, ou.code AS org_unit, {key_sql}, {_OUTCOMES}
{_EVIDENCE}
GROUP BY c.org_unit_id, ou.code, {names}""",
        columns=(Column("org_unit", "Org unit", kind="text"), *keys, *_OUTCOME_COLUMNS),
        order_by=("org_unit", *(k.key for k in keys)),
        chart=Chart("stacked", x="org_unit", y=("theft_confirmed", "meter_faulty", "no_issue", "pending")),
    ))  # fmt: skip


_by("atr_event_wise", "ATR event-wise", "एटीआर घटना-वार", "ATR cases by the rule (event) whose finding is on them.",
    "e.rule_id", (Column("rule_id", "Rule / event", kind="text"),))  # fmt: skip
_by("atr_validation_wise", "ATR validation-wise", "एटीआर सत्यापन-वार",
    "ATR cases by the kind of check that found them (VEE validation or analytics type).",
    "e.source, coalesce(e.detail->>'rule_type', 'unknown') AS rule_type",
    (Column("source", "Source", kind="text"), Column("rule_type", "Validation", kind="text")))  # fmt: skip


def _fixed(level: str) -> Callable[[date], str]:
    return lambda _: level


def _rollup(name: str, title_en: str, title_hi: str, level: str) -> None:
    _each_period(name, title_en, title_hi, lambda period, word: dict(
        description=f"ATR cases opened in the {word}, with the action taken, summed per {level}.",
        params=(period, ORG_UNIT, Param("level", "Group by", "level", default=_fixed(level), choices=(level,))),
        sql=f"""SELECT anc.id AS org_unit_id, anc.code AS org_unit, anc.name AS org_name, {_OUTCOMES},
  coalesce(sum(c.assessment_inr), 0) AS assessment_inr
{_OPENED.format(rollup=ROLLUP_JOIN)}
GROUP BY anc.id, anc.code, anc.name""",
        columns=(Column("org_unit", "Org unit", kind="text"), Column("org_name", "Name", kind="text"),
                 *_OUTCOME_COLUMNS, _ASSESSMENT),
        order_by=("org_unit",),
        chart=Chart("bar", x="org_unit", y=("cases", "theft_confirmed")),
    ))  # fmt: skip


_rollup("atr_summary_vigilance", "ATR summary for vigilance", "सतर्कता हेतु एटीआर सारांश", "circle")
_rollup("atr_circle_wise", "Circle-wise ATR", "वृत्त-वार एटीआर", "circle")
_rollup("atr_division_wise", "Division-wise ATR", "संभाग-वार एटीआर", "division")

FEEDBACK_LEVEL = Param(
    "level",
    "Group by",
    "level",
    default=lambda _: "discom",
    choices=("discom", "region", "circle", "division"),
)
register(
    Report(
        name="atr_rule_feedback",
        title_en="ATR rule feedback: hit and confirmed-theft rates",
        title_hi="एटीआर नियम प्रतिक्रिया: सफलता और पुष्ट चोरी दर",
        source="AMR",
        description=(
            "Per rule, the cases its findings are on and what inspection found: hit rate = (theft "
            "confirmed + meter faulty) / inspected, confirmed-theft rate = theft confirmed / inspected. "
            "Analysts tune the rule's parameters in rules/*.yaml from these."
        ),
        params=(PERIOD, ORG_UNIT, FEEDBACK_LEVEL),
        sql=f"""SELECT anc.id AS org_unit_id, anc.code AS org_unit, e.rule_id, {_OUTCOMES},
  count(DISTINCT c.id) FILTER (WHERE c.outcome IS NOT NULL) AS inspected,
  100.0 * count(DISTINCT c.id) FILTER (WHERE c.outcome IN ('theft_confirmed', 'meter_faulty'))
    / nullif(count(DISTINCT c.id) FILTER (WHERE c.outcome IS NOT NULL), 0) AS hit_rate_pct,
  100.0 * count(DISTINCT c.id) FILTER (WHERE c.outcome = 'theft_confirmed')
    / nullif(count(DISTINCT c.id) FILTER (WHERE c.outcome IS NOT NULL), 0) AS theft_rate_pct
FROM atr_evidence e
JOIN atr_cases c ON c.id = e.case_id
JOIN org_units ou ON ou.id = c.org_unit_id
{ROLLUP_JOIN}
WHERE e.day >= :first_day AND e.day <= :last_day AND {IN_CHOSEN_UNIT}
GROUP BY anc.id, anc.code, e.rule_id""",
        columns=(
            Column("org_unit", "Org unit", kind="text"),
            Column("rule_id", "Rule", kind="text"),
            *_OUTCOME_COLUMNS,
            Column("inspected", "Inspected", kind="integer"),
            Column("hit_rate_pct", "Hit rate", "%", kind="percent", digits=1),
            Column("theft_rate_pct", "Confirmed-theft rate", "%", kind="percent", digits=1),
        ),
        order_by=("org_unit", "rule_id"),
        chart=Chart("bar", x="rule_id", y=("hit_rate_pct", "theft_rate_pct")),
        notes=("A case counts for every rule whose finding is on it; an open case is not yet inspected.",),
    )
)

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
