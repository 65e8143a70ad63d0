"""What a person needs beside a task's form: the consumer's card and, for a second round, what
was sent back (the remarks, and the findings of the first round to start from)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.principal import Principal
from service.masterdata.cards import consumer_card
from service.processes import queue
from service.processes.models import WorkItem
from service.readings.totals import last_reads

LAST_READ_WINDOW = timedelta(days=400)  # a monthly scalar meter's last read lies within a year


def task_context(session: Session, principal: Principal, item: WorkItem) -> dict[str, Any]:
    ivrs = str((item.data or {}).get("ivrs_number") or "")
    card = consumer_card(session, principal, ivrs) if ivrs else None
    reads = None
    if card and card["meter"]:
        reads = last_reads(session, card["meter"]["id"], datetime.now(UTC) - LAST_READ_WINDOW)
    return {"card": card, "reads": reads, "ivrs": ivrs, "sent_back": _sent_back(session, item)}


def _sent_back(session: Session, item: WorkItem) -> dict[str, Any] | None:
    previous = queue.sent_back_from(session, item)
    if previous is None:
        return None
    decision = session.scalar(
        select(WorkItem)
        .where(
            WorkItem.instance_id == item.instance_id,
            WorkItem.status == "completed",
            WorkItem.id > previous.id,
            WorkItem.id < item.id,
        )
        .order_by(WorkItem.id.desc())
        .limit(1)
    )
    result = decision.result if decision is not None else {}
    return {
        "by": decision.completed_by if decision is not None else None,
        "at": decision.completed_at if decision is not None else None,
        "remarks": (result or {}).get("remarks"),
        "values": dict(previous.result or {}),
        "first_by": previous.completed_by,
    }
