"""RQ jobs of the aggregates (each owns its transaction)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from rules.frames import IST_OFFSET_SECONDS
from service.aggregates.refresh import refresh_all_feeders
from service.unit_of_work import unit_of_work

RECENT_DAYS = 35


def rebuild_recent_network(today: str | None = None) -> int:
    """Nightly: every feeder's and DT's days of the last RECENT_DAYS local days."""
    last = (
        date.fromisoformat(today)
        if today
        else (datetime.now(UTC) + timedelta(seconds=IST_OFFSET_SECONDS)).date()
    )
    with unit_of_work(remove=True) as uow:
        written = refresh_all_feeders(uow.session, last - timedelta(days=RECENT_DAYS), last)
        uow.commit()
        return written
