"""Every statement VEE runs on a measurement table reads only the partitions of its batch's span.

The store holds two years of month partitions with rows in each. The statements sent while a
batch is validated (by the job, and at ingest) are recorded from the driver's cursor; each one
on `interval_readings` / `register_reads` is EXPLAINed and the partitions in its plan must lie
in the batch's days plus the declared look-backs (29 days of intervals for the rules,
registers as far as VEE and the aggregates refreshed after it look back and forward).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import psycopg2.extensions
from sqlalchemy import text

from integrations.canonical import CanonicalBatch
from service.aggregates.meters import SCALAR_FOLLOW, SCALAR_LOOKBACK
from service.readings import partitions
from service.vee import loading
from service.vee.validation import day_window
from tests.vee.conftest import DAY_START_DT, at, intervals_batch, profile, registers_batch

MEASUREMENT = re.compile(r"\b(interval_readings|register_reads)\b", re.IGNORECASE)
PARTITION = re.compile(r"^(interval_readings|register_reads)_(\d{4})_(\d{2})$")
STORE_FROM, STORE_TO = date(2023, 7, 1), date(2027, 3, 1)


class _Recording(psycopg2.extensions.cursor):
    statements: list[str] = []

    def execute(self, query: Any, vars: Any = None) -> Any:
        _Recording.statements.append(self.mogrify(query, vars).decode())
        return super().execute(query, vars)

    def copy_expert(self, sql: Any, file: Any, size: int = 8192) -> Any:
        _Recording.statements.append(sql)
        return super().copy_expert(sql, file, size)


@contextmanager
def recorded(session: Any) -> Iterator[list[str]]:
    """The statements sent on the session's connection meanwhile (the driver's cursors)."""
    conn = session.connection().connection.dbapi_connection
    saved = conn.cursor_factory
    _Recording.statements = []
    conn.cursor_factory = _Recording
    try:
        yield _Recording.statements
    finally:
        conn.cursor_factory = saved


def _store_with_two_years(session: Any, meter_id: int) -> None:
    months = partitions.months_between(STORE_FROM, STORE_TO)
    for table in ("interval_readings", "register_reads"):
        partitions.ensure_partitions(session(), table, months)
    away = {"a": DAY_START_DT - timedelta(days=2), "b": DAY_START_DT + timedelta(days=2)}
    session.execute(
        text(
            "INSERT INTO interval_readings (meter_id, channel, interval_end, value, interval_minutes, quality,"
            " source, batch_id) SELECT :m, 'kwh', g, 0.25, 15, 'valid', 'seed', 0"
            " FROM generate_series('2023-07-01 00:15+00'::timestamptz, '2027-03-31', interval '1 day') g"
            " WHERE g < :a OR g > :b"
        ),
        {"m": meter_id, **away},
    )
    session.execute(
        text(
            "INSERT INTO register_reads (meter_id, kind, channel, tod_zone, read_at, value, quality, source,"
            " batch_id) SELECT :m, 'daily', 'kwh', 0, g, 1000, 'valid', 'seed', 0"
            " FROM generate_series('2023-07-01 18:30+00'::timestamptz, '2027-03-31', interval '1 day') g"
            " WHERE g < :a OR g > :b"
        ),
        {"m": meter_id, **away},
    )
    session.commit()
    session.execute(text("ANALYZE interval_readings"))
    session.execute(text("ANALYZE register_reads"))


def _relations(plan: Any) -> Iterator[str]:
    if isinstance(plan, dict):
        if "Relation Name" in plan:
            yield plan["Relation Name"]
        for value in plan.values():
            yield from _relations(value)
    elif isinstance(plan, list):
        for item in plan:
            yield from _relations(item)


def _explainable(statement: str) -> str | None:
    if not MEASUREMENT.search(statement):
        return None
    head = statement.lstrip().upper()
    if head.startswith("COPY ("):
        return statement[statement.index("(") + 1 : statement.rindex(") TO STDOUT")]
    if head.startswith(("COPY", "CREATE", "TRUNCATE", "ANALYZE", "SAVEPOINT", "RELEASE", "ROLLBACK")):
        return None
    return statement


def outside_partitions(
    session: Any, statements: list[str], start: datetime, end: datetime
) -> dict[str, list[str]]:
    """Statement -> partitions in its plan outside the allowed months of its table."""
    allowed = {
        "interval_readings": set(
            partitions.months_between(start - timedelta(days=loading.LIKE_DAY_DAYS), end)
        ),
        # VEE's previous registers; the aggregates refreshed after VEE read scalar reads
        # further back (the last read with a value) and the reads that follow the span.
        "register_reads": set(
            partitions.months_between(
                start - max(loading.REGISTER_LOOKBACK, SCALAR_LOOKBACK), end + SCALAR_FOLLOW
            )
        ),
    }
    found: dict[str, list[str]] = {}
    checked = 0
    cur = session.connection().connection.dbapi_connection.cursor()
    for statement in statements:
        query = _explainable(statement)
        if query is None:
            continue
        cur.execute("EXPLAIN (FORMAT JSON) " + query)
        plan = cur.fetchone()[0]
        checked += 1
        bad = []
        for name in set(_relations(plan)):
            match = PARTITION.match(name)
            if match and date(int(match[2]), int(match[3]), 1) not in allowed[match[1]]:
                bad.append(name)
        if bad:
            found[statement[:200]] = sorted(bad)
    assert checked >= 5, f"only {checked} statements on measurement tables were seen: {statements}"
    return found


def _explain_all(session: Any, statements: list[str]) -> dict[str, list[str]]:
    start, end = day_window(DAY_START_DT + timedelta(minutes=15), DAY_START_DT + timedelta(days=1))
    return outside_partitions(session, statements, start, end)


def test_vee_job_statements_read_only_the_batch_span_partitions(
    session: Any, network: dict[str, int], ingest: Any
) -> None:
    from service.vee.validation import validate_batch

    _store_with_two_years(session, network["VM1"])
    # A partial day with a spike and a gap (stored raw, left to the job), a daily register and
    # a door-locked scalar read: every kind of statement the job sends.
    day = intervals_batch("VM1", profile({30: 1.5}, skip=(50, 51, 90)))
    registers = registers_batch(
        [
            ("VM1", "daily", "kwh", at(0), 1001.0, None),
            ("VS1", "scalar", "kwh", at(40), np.nan, "door_locked"),
        ]
    )
    batch = CanonicalBatch(source="hes:TEST", intervals=day.intervals, registers=registers.registers)
    result = ingest(batch)
    with recorded(session) as statements:
        validate_batch(session(), result.batch_id)
    assert any("UPDATE interval_readings" in s for s in statements)
    assert _explain_all(session, statements) == {}
    session.rollback()


def test_validation_at_ingest_reads_only_the_batch_span_partitions(
    session: Any, network: dict[str, int]
) -> None:
    from service.readings.ingest import ingest_batch
    from tests.vee.conftest import ACTOR

    _store_with_two_years(session, network["VM1"])
    with recorded(session) as statements:
        result = ingest_batch(session(), intervals_batch("VM1", profile({30: 1.5})), actor=ACTOR)
    counts = session.execute(
        text("SELECT counts FROM ingest_batches WHERE id = :b"), {"b": result.batch_id}
    ).scalar_one()
    assert counts.get("validated_at_ingest") is True
    assert _explain_all(session, statements) == {}
    session.rollback()


def test_the_check_sees_a_statement_without_its_span(session: Any, network: dict[str, int]) -> None:
    """Meta-test: the same reading without its time predicate is caught."""
    _store_with_two_years(session, network["VM1"])
    start, end = day_window(DAY_START_DT + timedelta(minutes=15), DAY_START_DT + timedelta(days=1))
    m = network["VM1"]
    statements = [
        f"SELECT count(*) FROM interval_readings WHERE meter_id = {m} AND interval_end > '{start.isoformat()}'",  # noqa: S608
        f"SELECT 1 FROM interval_readings WHERE meter_id = {m} AND interval_end > '{start.isoformat()}'"  # noqa: S608
        f" AND interval_end <= '{end.isoformat()}'",
    ] * 3
    found = outside_partitions(session, statements, start, end)
    assert list(found) == [statements[0][:200]]
    assert "interval_readings_2026_12" in found[statements[0][:200]]
