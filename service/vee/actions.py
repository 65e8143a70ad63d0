"""What a rule's `open_atr_case` action does: each registered opener gets the findings.

The ATR case workflow belongs to the processes area; it registers an opener here. Without
one, the finding row (action = open_atr_case) is the record the ATR reports read.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from rules.engine import Evaluation
from service.vee.loading import Meters

# opener(session, rule_id, meter_id, rule_name): must be idempotent per (rule, meter, day).
CaseOpener = Callable[[Session, str, int, str], None]
CASE_OPENERS: list[CaseOpener] = []


def register_case_opener(opener: CaseOpener) -> None:
    if opener not in CASE_OPENERS:
        CASE_OPENERS.append(opener)


def open_cases(session: Session, evaluation: Evaluation, meters: Meters) -> int:
    pairs = evaluation.cases()
    for opener in CASE_OPENERS:
        for rule, meter in pairs:
            opener(session, rule.id, int(meters.ids[meter]), rule.name)
    return len(pairs)
