"""What a rule's `open_atr_case` action does: each registered opener gets the findings.

Revenue protection (`service.revenue`) registers the opener that opens (or adds evidence to)
the consumer's ATR case. The finding row (action = open_atr_case) is kept either way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
from sqlalchemy.orm import Session

from rules.engine import Evaluation
from rules.loader import Rule
from service.vee.loading import Meters

# opener(session, rule, meter_id, at): at is the meter's latest hit of the rule; must be
# idempotent per (rule, meter, local day of `at`).
CaseOpener = Callable[[Session, Rule, int, datetime], None]
CASE_OPENERS: list[CaseOpener] = []


def register_case_opener(opener: CaseOpener) -> None:
    if opener not in CASE_OPENERS:
        CASE_OPENERS.append(opener)


def open_cases(session: Session, evaluation: Evaluation, meters: Meters) -> int:
    opened = 0
    for finding in evaluation.findings:
        if finding.rule.action != "open_atr_case":
            continue
        hits = finding.hits
        order = np.lexsort((hits.ts, hits.meter))
        last = np.r_[hits.meter[order][1:] != hits.meter[order][:-1], True]
        for meter, ts in zip(hits.meter[order][last], hits.ts[order][last], strict=True):
            opened += 1
            at = datetime.fromtimestamp(int(ts), UTC)
            for opener in CASE_OPENERS:
                opener(session, finding.rule, int(meters.ids[int(meter)]), at)
    return opened
