"""ATR cases: a finding opens the consumer's case (or adds evidence to the open one); a new case
starts `workflows/atr_case.bpmn`, a work item for the field officer of the consumer's DC.

Set-based: one statement locks the open cases of all the findings' consumers, one inserts the
missing cases, one the evidence. Every step is idempotent: the same finding again adds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from rules.loader import Rule
from service.audit.log import Actor, record_many
from service.masterdata.profiles import consumer_facts, consumers_of_meters
from service.processes.batch import MAX_BATCH, start_many

PROCESS_ID = "atr_case"
IST = timedelta(hours=5, minutes=30)
DEFAULT_ESCALATE_AFTER = "P7D"
ACTOR = Actor("system", "revenue-protection")


@dataclass(frozen=True)
class Finding:
    """One rule's suspicion of one consumer on one local day."""

    rule_id: str
    consumer_id: int
    day: date
    meter_id: int | None = None
    score: float = 1.0
    source: str = "analytics"
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Added:
    opened: list[int] = field(default_factory=list)  # case ids opened now
    evidence: int = 0  # evidence rows added (to new or open cases)


def case_key(case_id: int) -> str:
    return f"atr-case-{case_id}"


def local_day(at: datetime) -> date:
    return (at.astimezone(UTC) + IST).date()


_LOCK_OPEN = text(
    "SELECT id, consumer_id FROM atr_cases WHERE consumer_id = ANY(:c) AND status <> 'closed' FOR UPDATE"
)
_INSERT_CASES = text(
    """
    INSERT INTO atr_cases (consumer_id, meter_id, org_unit_id, status, first_rule_id, score, opened_at)
    SELECT x.consumer_id, x.meter_id, x.org_unit_id, 'open', x.rule_id, x.score, :now
    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
      AS x(consumer_id int, meter_id int, org_unit_id int, rule_id text, score float8)
    ON CONFLICT (consumer_id) WHERE status <> 'closed' DO NOTHING
    RETURNING id, consumer_id
    """
)
_INSERT_EVIDENCE = text(
    """
    WITH added AS (
      INSERT INTO atr_evidence (case_id, rule_id, source, day, meter_id, score, detail)
      SELECT x.case_id, x.rule_id, x.source, x.day, x.meter_id, x.score, coalesce(x.detail, '{}')
      FROM jsonb_to_recordset(CAST(:rows AS jsonb))
        AS x(case_id bigint, rule_id text, source text, day date, meter_id int, score float8, detail jsonb)
      ON CONFLICT (case_id, rule_id, day) DO NOTHING
      RETURNING case_id, score
    ), scored AS (
      UPDATE atr_cases c SET score = c.score + s.total
      FROM (SELECT case_id, sum(score) AS total FROM added GROUP BY case_id) s
      WHERE c.id = s.case_id
      RETURNING c.id
    )
    SELECT count(*) FROM added
    """
)
_INSERT_ACTIONS = text(
    """
    INSERT INTO atr_actions (case_id, action, actor, at, detail)
    SELECT x.case_id, x.action, :actor, :now, x.detail
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(case_id bigint, action text, detail jsonb)
    """
)


def add_findings(
    session: Session,
    findings: Sequence[Finding],
    now: datetime,
    escalate_after: str = DEFAULT_ESCALATE_AFTER,
    actor: Actor = ACTOR,
) -> Added:
    """Open a case per consumer without one, add every finding as evidence. Never commits."""
    added = Added()
    if not findings:
        return added
    consumers = sorted({f.consumer_id for f in findings})
    facts = consumer_facts(session, consumers)
    findings = [f for f in findings if f.consumer_id in facts]
    case_of = {int(c): int(i) for i, c in session.execute(_LOCK_OPEN, {"c": consumers})}
    first: dict[int, Finding] = {}
    for f in sorted(findings, key=lambda f: -f.score):
        if f.consumer_id not in case_of:
            first.setdefault(f.consumer_id, f)
    if first:
        rows = [
            {"consumer_id": c, "meter_id": f.meter_id, "org_unit_id": facts[c][1], "rule_id": f.rule_id,
             "score": 0.0}
            for c, f in sorted(first.items())
        ]  # fmt: skip
        new = {
            int(c): int(i) for i, c in session.execute(_INSERT_CASES, {"rows": json.dumps(rows), "now": now})
        }
        # A case a concurrent run opened meanwhile: add to it (the index keeps one open per consumer).
        missed = [c for c in first if c not in new]
        if missed:
            case_of |= {int(c): int(i) for i, c in session.execute(_LOCK_OPEN, {"c": missed})}
        case_of |= new
        added.opened = sorted(new.values())
        opened = [(new[c], c, first[c]) for c in sorted(new)]
        _start_processes(session, opened, facts, escalate_after, actor)
        _actions(session, [(i, "opened", {"rule_id": f.rule_id}) for i, _, f in opened], now, actor)
        record_many(session, actor, "open", "atr_case",
                    [(str(i), None, {"consumer_id": c, "rule_id": f.rule_id}) for i, c, f in opened])  # fmt: skip
    evidence = [
        {"case_id": case_of[f.consumer_id], "rule_id": f.rule_id, "source": f.source, "day": f.day.isoformat(),
         "meter_id": f.meter_id, "score": f.score, "detail": f.detail}
        for f in findings
        if f.consumer_id in case_of
    ]  # fmt: skip
    added.evidence = int(session.execute(_INSERT_EVIDENCE, {"rows": json.dumps(evidence)}).scalar_one())
    return added


def _start_processes(
    session: Session,
    cases: list[tuple[int, int, Finding]],
    facts: dict[int, tuple[str, int]],
    escalate_after: str,
    actor: Actor,
) -> None:
    items = [
        (case_key(case_id), facts[consumer][1],
         {"case_id": case_id, "ivrs_number": facts[consumer][0], "rule_id": f.rule_id,
          "escalate_after": escalate_after})
        for case_id, consumer, f in cases
    ]  # fmt: skip
    for start in range(0, len(items), MAX_BATCH):
        chunk = items[start : start + MAX_BATCH]
        outcomes = start_many(session, PROCESS_ID, chunk, actor)
        ids = [(int(str(o.business_key).removeprefix("atr-case-")), o.instance_id) for o in outcomes]
        session.execute(
            text("UPDATE atr_cases c SET instance_id = x.i FROM unnest(CAST(:c AS bigint[]), CAST(:i AS bigint[]))"
                 " AS x(c, i) WHERE c.id = x.c"),
            {"c": [c for c, _ in ids], "i": [i for _, i in ids]},
        )  # fmt: skip


def _actions(
    session: Session, rows: list[tuple[int, str, dict[str, Any]]], now: datetime, actor: Actor
) -> None:
    if rows:
        payload = [{"case_id": c, "action": a, "detail": d} for c, a, d in rows]
        session.execute(_INSERT_ACTIONS, {"rows": json.dumps(payload), "now": now, "actor": actor.name})


def vee_case_opener(session: Session, rule: Rule, meter_id: int, at: datetime) -> None:
    """The opener VEE calls for a rule whose action is `open_atr_case` (service.vee.actions)."""
    consumer = consumers_of_meters(session, [meter_id]).get(meter_id)
    if consumer is None:
        return  # a meter on no consumer (in store, a feeder meter): nothing to inspect
    detail = {"rule_name": rule.name, "rule_type": rule.type}
    finding = Finding(rule.id, consumer[0], local_day(at), meter_id, 1.0, "vee", detail)
    add_findings(session, [finding], datetime.now(UTC))
