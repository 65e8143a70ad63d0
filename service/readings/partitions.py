"""Monthly partitions of the measurement tables: created ahead by a daily job and on demand.

Partitions are UTC calendar months (`<table>_YYYY_MM`). There is no default partition: one
would make every later CREATE ... PARTITION OF scan it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

# Partitioned table -> its partition key column.
PARTITIONED: dict[str, str] = {
    "interval_readings": "interval_end",
    "register_reads": "read_at",
    "meter_events": "occurred_at",
    "network_energy": "interval_end",
}
MONTHS_AHEAD = 2
# pg_advisory_xact_lock key: concurrent ingests must not both create the same partition.
_LOCK_KEY = 0x52454144  # "READ"


def month_start(value: date | datetime) -> date:
    return date(value.year, value.month, 1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def months_between(first: date | datetime, last: date | datetime) -> list[date]:
    """Every month from first's to last's, inclusive."""
    months, month, end = [], month_start(first), month_start(last)
    while month <= end:
        months.append(month)
        month = next_month(month)
    return months


def partition_name(table: str, month: date) -> str:
    return f"{table}_{month.year:04d}_{month.month:02d}"


def existing_partitions(session: Session, table: str) -> set[str]:
    rows = session.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :table"
        ),
        {"table": table},
    ).scalars()
    return set(rows)


def ensure_partitions(session: Session, table: str, months: list[date]) -> list[str]:
    """Create the missing month partitions of `table` in the caller's transaction.

    Returns the names created. Creating a partition locks the parent until commit, so the
    daily job creating them ahead keeps ingest from doing it except for back-filled months.
    """
    if table not in PARTITIONED:
        raise ValueError(f"{table!r} is not a partitioned measurement table")
    wanted = {partition_name(table, m): m for m in months}
    missing = set(wanted) - existing_partitions(session, table)
    if not missing:
        return []
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    missing -= existing_partitions(session, table)  # another transaction may have won
    for name in sorted(missing):
        month = wanted[name]
        # Names and bounds come from dates we formatted, never from input.
        session.execute(
            text(
                f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF "{table}"'
                f" FOR VALUES FROM ('{month.isoformat()} 00:00:00+00')"
                f" TO ('{next_month(month).isoformat()} 00:00:00+00')"
            )
        )
    return sorted(missing)


def ensure_ahead(session: Session, today: date | None = None, months_ahead: int = MONTHS_AHEAD) -> list[str]:
    """The current month and the next `months_ahead` for every measurement table."""
    month = month_start(today or datetime.now(UTC).date())
    months = [month]
    for _ in range(months_ahead):
        months.append(next_month(months[-1]))
    created: list[str] = []
    for table in PARTITIONED:
        created += ensure_partitions(session, table, months)
    return created
