"""The analytics pass: a month of daily aggregates (and the history before it) for every consumer
-> the rules of `rules/revenue/analytics.yaml` -> findings -> ATR cases.

Reads go through the faces of the areas that own the data: meter-days and DT energy from
`service.aggregates`, consumers on the network from master data, tamper events from readings.
Never commits; the entry point (CLI, RQ job) owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session

from rules.revenue import ANALYTICS_FILE, AnalyticsSet, load_file
from rules.revenue.detectors import Events, Hits, Population, run
from service.aggregates import meter_days, network_energy
from service.masterdata.profiles import consumer_profiles
from service.readings.events import events_between
from service.revenue.cases import Added, Finding, add_findings

IST = timedelta(hours=5, minutes=30)


class AnalyticsFileInvalid(ValueError):
    """The analytics rule file does not validate; its errors name file and line."""


def analytics_set(path: Path = ANALYTICS_FILE) -> AnalyticsSet:
    loaded = load_file(path)
    if not loaded.ok or loaded.analytics_set is None:
        raise AnalyticsFileInvalid("; ".join(str(e) for e in loaded.errors))
    return loaded.analytics_set


def _ist_start(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC) - IST


def tamper_codes(rules: AnalyticsSet) -> list[int]:
    return sorted({c for r in rules.rules if r.enabled for c in r.parameters.get("codes", [])})


def load_population(
    session: Session, rules: AnalyticsSet, first: date, last: date
) -> tuple[Population, dict[int, int]]:
    """The consumers connected on `last` with their meter-days from `first - history` to `last`,
    and each consumer's meter then."""
    start = first - timedelta(days=rules.history_days)
    profiles = consumer_profiles(session, last)
    days = meter_days(session, start, last, first)
    n, width = len(profiles), (last - start).days + 1
    daily = np.full((n, width), np.nan)
    zones_h, zones_m = np.zeros((n, days.zones_before.shape[1])), np.zeros((n, days.zones_after.shape[1]))
    row_of_meter = dict(zip(profiles.meter_id.tolist(), range(n), strict=True))
    rows = np.array([row_of_meter.get(m, -1) for m in days.meter_id.tolist()], dtype=np.int64)
    mine = rows >= 0
    daily[rows[mine]] = days.kwh[mine]
    zones_h[rows[mine]], zones_m[rows[mine]] = days.zones_before[mine], days.zones_after[mine]
    end = _ist_start(last + timedelta(days=1))
    stored = events_between(session, tamper_codes(rules), _ist_start(first), end)
    ev = [(row_of_meter[e.meter_id], e) for e in stored if e.meter_id in row_of_meter]
    events = Events(
        np.array([r for r, _ in ev], dtype=np.int64),
        np.array([e.code for _, e in ev], dtype=np.int64),
        np.array(
            [((e.occurred_at.astimezone(UTC) + IST).date() - start).days for _, e in ev], dtype=np.int64
        ),
        np.array([((e.restored_at or end) - e.occurred_at).total_seconds() / 3600 for _, e in ev]),
    )
    dts = network_energy(session, "dtr", first, last)
    meter_of = {int(c): int(m) for c, m in zip(profiles.consumer_id, profiles.meter_id, strict=True) if m}
    return Population(
        consumer_id=profiles.consumer_id, dtr=profiles.dtr_id, feeder=profiles.feeder_id,
        tariff=profiles.tariff, sanctioned_kw=profiles.sanctioned_load, daily=daily,
        month_from=rules.history_days, zones_history=zones_h, zones_month=zones_m, events=events,
        dt_id=dts.network_id, dt_input_kwh=dts.input_kwh, dt_sold_kwh=dts.sold_kwh,
    ), meter_of  # fmt: skip


@dataclass
class AnalyticsRun:
    first: date
    last: date
    consumers: int
    hits: dict[str, int] = field(default_factory=dict)  # rule id -> consumers hit
    added: Added = field(default_factory=Added)


def findings_of(pop: Population, hits: list[Hits], start: date, meter_of: dict[int, int]) -> list[Finding]:
    out = []
    for h in hits:
        for row, day, score, detail in zip(h.row, h.day, h.score, h.detail, strict=True):
            consumer = int(pop.consumer_id[row])
            out.append(Finding(h.rule.id, consumer, start + timedelta(days=int(day)), meter_of.get(consumer),
                               round(float(score), 4), "analytics", {"rule_type": h.rule.type, **detail}))  # fmt: skip
    return out


def analyse(
    session: Session, first: date, last: date, now: datetime, rules: AnalyticsSet | None = None
) -> AnalyticsRun:
    """Run every enabled analytics rule over [first, last] and open or add to the cases."""
    rules = rules or analytics_set()
    pop, meter_of = load_population(session, rules, first, last)
    hits = run(rules, pop)
    start = first - timedelta(days=rules.history_days)
    findings = findings_of(pop, hits, start, meter_of)
    result = AnalyticsRun(first, last, len(pop), {h.rule.id: len(np.unique(h.row)) for h in hits})
    result.added = add_findings(session, findings, now, rules.escalate_after)
    return result
