"""What other areas read of revenue protection: a consumer's open cases (the consumer page)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


def open_cases_for_consumer(session: Session, consumer_id: int, now: datetime) -> list[dict[str, Any]]:
    rows = session.execute(
        text(
            "SELECT id AS case_id, status, first_rule_id AS rule_id, opened_at, escalated_at,"
            " (SELECT count(*) FROM atr_evidence e WHERE e.case_id = c.id) AS evidence"
            " FROM atr_cases c WHERE consumer_id = :c AND status <> 'closed' ORDER BY opened_at"
        ),
        {"c": consumer_id},
    ).mappings()
    return [dict(r) for r in rows]
