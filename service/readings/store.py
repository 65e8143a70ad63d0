"""Staging and merging: binary COPY of sorted columns into a temp table, then one INSERT ... SELECT.

Runs on the SQLAlchemy session's own psycopg2 connection, so everything is part of the
caller's transaction. Buffers are built column-wise with numpy (LIBRARY-NOTES: binary COPY of
key-sorted rows is the fastest path; the ORM is 20x slower).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from integrations.canonical import INTERVAL_CHANNELS, READING_STATUSES, REGISTER_CHANNELS, REGISTER_KINDS
from service.readings.models import NETWORK_KINDS

PG_EPOCH_S = 946_684_800  # 2000-01-01T00:00:00Z, PostgreSQL's timestamp origin
PG_INFINITY_US = np.iinfo(np.int64).max  # binary 'infinity' timestamptz: our NULL sentinel
_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_TRAILER = b"\xff\xff"

# Text columns are staged as small codes (1-based, like PostgreSQL arrays) so every staged
# row has a fixed width; the merge turns them back into text with these arrays.
CODES: dict[str, tuple[str, ...]] = {
    "interval_channel": tuple(INTERVAL_CHANNELS),
    "register_channel": tuple(REGISTER_CHANNELS),
    "register_kind": REGISTER_KINDS,
    "reading_status": READING_STATUSES,
    "network_kind": NETWORK_KINDS,
}


KIND_SCALAR = REGISTER_KINDS.index("scalar") + 1  # register kind code of monthly scalar reads
STATUS_NORMAL = READING_STATUSES.index("normal") + 1  # reading status code of a normal read


def _array_sql(name: str) -> str:
    return "(ARRAY[" + ", ".join(f"'{v}'" for v in CODES[name]) + "]::text[])"


def timestamps_us(ts: npt.NDArray[np.datetime64]) -> npt.NDArray[np.int64]:
    """UTC datetime64 -> PostgreSQL binary timestamptz (microseconds since 2000); NaT -> infinity."""
    seconds = ts.astype("datetime64[s]")
    out = (seconds.astype(np.int64) - PG_EPOCH_S) * 1_000_000
    out[np.isnat(seconds)] = PG_INFINITY_US
    return out


def binary_rows(columns: Sequence[tuple[str, Any]]) -> bytes:
    """COPY BINARY tuples of fixed-width, non-null columns: [(big-endian dtype, values)].

    A dtype "S<n>" is a text column whose values are all n bytes long (a constant or one group).
    """
    fields: list[tuple[str, str]] = [("n", ">i2")]
    for i, (dtype, _) in enumerate(columns):
        fields += [(f"l{i}", ">i4"), (f"v{i}", dtype)]
    length = next(len(v) for _, v in columns if isinstance(v, np.ndarray))
    rows = np.empty(length, dtype=np.dtype(fields))
    rows["n"] = len(columns)
    for i, (dtype, values) in enumerate(columns):
        rows[f"l{i}"] = np.dtype(dtype).itemsize
        rows[f"v{i}"] = values
    return rows.tobytes()


def binary_copy_buffer(columns: Sequence[tuple[str, Any]]) -> bytes:
    return _HEADER + binary_rows(columns) + _TRAILER


def copy_new_intervals(
    session: Session,
    meter_ids: npt.NDArray[Any],
    channel_codes: npt.NDArray[Any],
    ends_us: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    minutes: npt.NDArray[Any],
    source: str,
    batch_id: int,
    span: tuple[Any, Any],
    quality: npt.NDArray[Any] | None = None,
) -> bool:
    """Fast path for the usual case, keys never seen: COPY straight into the partitions.

    Measured (benchmarks/ingest.py): INSERT ... SELECT ... ON CONFLICT from staging runs at
    about a third of COPY's rate. When no stored row of these meters and channels falls in the
    batch's time span, the rows are copied directly inside a savepoint; a concurrent batch
    that stored one of the keys meanwhile makes the COPY fail, and the caller falls back to
    staging + merge. Returns whether the rows were stored. `quality` (a name per row) is
    stored as given, for rows validated in memory; otherwise every row is `raw`.
    """
    import psycopg2.errors

    channels = [CODES["interval_channel"][c - 1] for c in np.unique(channel_codes)]
    cur = raw_connection(session).cursor()
    try:
        cur.execute(
            # One probe per (meter, channel) on the key's prefix and the span.
            "SELECT EXISTS (SELECT 1 FROM unnest(%(m)s::int[]) m(id) CROSS JOIN unnest(%(c)s::text[]) c(ch)"
            " CROSS JOIN LATERAL (SELECT 1 FROM interval_readings r WHERE r.meter_id = m.id"
            " AND r.channel = c.ch AND r.interval_end BETWEEN %(first)s AND %(last)s LIMIT 1) x)",
            {"m": np.unique(meter_ids).tolist(), "c": channels, "first": span[0], "last": span[1]},
        )
        if cur.fetchone()[0]:
            return False
        source_bytes = source.encode()
        parts = [_HEADER]
        qualities = np.full(len(meter_ids), "raw", dtype=object) if quality is None else quality
        # Fixed-width text per chunk: one chunk per (channel, quality); most rows share one.
        for code in np.unique(channel_codes):
            in_channel = channel_codes == code
            name = CODES["interval_channel"][code - 1].encode()
            for q in np.unique(qualities[in_channel]):
                rows = np.flatnonzero(in_channel & (qualities == q))
                flag = str(q).encode()
                parts.append(
                    binary_rows(
                        [
                            (">i4", meter_ids[rows]),
                            (f"S{len(name)}", name),
                            (">i8", ends_us[rows]),
                            (">f8", values[rows]),
                            (">i2", minutes[rows]),
                            (f"S{len(flag)}", flag),
                            (f"S{len(source_bytes)}", source_bytes),
                            (">i8", batch_id),
                        ]
                    )
                )
        parts.append(_TRAILER)
        cur.execute("SAVEPOINT readings_copy")
        try:
            cur.copy_expert(
                "COPY interval_readings (meter_id, channel, interval_end, value, interval_minutes, quality,"
                " source, batch_id) FROM STDIN WITH (FORMAT binary)",
                io.BytesIO(b"".join(parts)),
            )
        except psycopg2.errors.UniqueViolation:
            cur.execute("ROLLBACK TO SAVEPOINT readings_copy")
            return False
        cur.execute("RELEASE SAVEPOINT readings_copy")
        return True
    finally:
        cur.close()


def raw_connection(session: Session) -> Any:
    """The psycopg2 connection under the session, in the session's transaction."""
    return session.connection().connection.dbapi_connection


@dataclass(frozen=True)
class Measure:
    """How one kind of measurement is staged, merged and revised."""

    name: str
    table: str
    stage: str
    stage_columns: str  # DDL of the staging table
    keys: tuple[tuple[str, str], ...]  # (target column, expression over staging row s)
    values: tuple[tuple[str, str, str], ...]  # (target column, from staging, merged with old row t)
    subject: str  # column that leads the key (meter_id / network_id)
    channel: str  # channel column, or "NULL"
    at: str  # time key column
    revision_key: str  # jsonb of the key parts other than subject/channel/at
    revision_value: str  # the numeric value column, or "NULL"
    revision_extra: tuple[str, ...]  # other compared columns kept in old_extra/new_extra
    with_quality: bool = True


_CH = _array_sql("interval_channel")
_RCH = _array_sql("register_channel")

INTERVAL = Measure(
    name="interval",
    table="interval_readings",
    stage="stage_interval_readings",
    stage_columns="meter_id int4, channel int2, interval_end timestamptz, value float8, interval_minutes int2",
    keys=(("meter_id", "s.meter_id"), ("channel", f"{_CH}[s.channel]"), ("interval_end", "s.interval_end")),
    values=(
        ("value", "s.value", "s.value"),
        ("interval_minutes", "s.interval_minutes", "s.interval_minutes"),
    ),
    subject="meter_id",
    channel="channel",
    at="interval_end",
    revision_key="'{}'::jsonb",
    revision_value="value",
    revision_extra=("interval_minutes",),
)
_REGISTER_VALUE = "NULLIF(s.value, 'NaN'::float8)"  # PostgreSQL's NaN equals NaN
_STATUS = f"{_array_sql('reading_status')}[NULLIF(s.reading_status, 0)]"
_KEEPS_ESTIMATE = (
    f"s.value = 'NaN'::float8 AND t.quality = 'estimated' AND t.reading_status IS NOT DISTINCT FROM {_STATUS}"
)
REGISTER = Measure(
    name="register",
    table="register_reads",
    stage="stage_register_reads",
    stage_columns=(
        "meter_id int4, kind int2, channel int2, tod_zone int2, read_at timestamptz, value float8,"
        " occurred_at timestamptz, reading_status int2"
    ),
    keys=(
        ("meter_id", "s.meter_id"),
        ("kind", f"{_array_sql('register_kind')}[s.kind]"),
        ("channel", f"{_RCH}[s.channel]"),
        ("tod_zone", "s.tod_zone"),
        ("read_at", "s.read_at"),
    ),
    values=(
        # A status-only scalar read is staged as NaN (binary COPY has fixed-width rows) and
        # stored as NULL. Re-sent after VEE estimated it for the same status, it keeps the
        # estimate (nothing new arrived); a real value replaces the estimate as usual.
        ("value", _REGISTER_VALUE, f"CASE WHEN {_KEEPS_ESTIMATE} THEN t.value ELSE {_REGISTER_VALUE} END"),
        ("occurred_at", "NULLIF(s.occurred_at, 'infinity')", "NULLIF(s.occurred_at, 'infinity')"),
        ("reading_status", _STATUS, _STATUS),
    ),
    subject="meter_id",
    channel="channel",
    at="read_at",
    revision_key="jsonb_build_object('kind', kind, 'tod_zone', tod_zone)",
    revision_value="value",
    revision_extra=("occurred_at", "reading_status"),
)
EVENT = Measure(
    name="event",
    table="meter_events",
    stage="stage_meter_events",
    stage_columns="meter_id int4, code int4, occurred_at timestamptz, restored_at timestamptz, snapshot jsonb",
    keys=(("meter_id", "s.meter_id"), ("code", "s.code"), ("occurred_at", "s.occurred_at")),
    # A re-sent occurrence without its restoration must not erase a restoration already known.
    values=(
        ("restored_at", "s.restored_at", "COALESCE(s.restored_at, t.restored_at)"),
        ("snapshot", "s.snapshot", "CASE WHEN s.snapshot = '{}'::jsonb THEN t.snapshot ELSE s.snapshot END"),
    ),
    subject="meter_id",
    channel="NULL",
    at="occurred_at",
    revision_key="jsonb_build_object('code', code)",
    revision_value="NULL",
    revision_extra=("restored_at", "snapshot"),
    with_quality=False,
)
NETWORK = Measure(
    name="network",
    table="network_energy",
    stage="stage_network_energy",
    stage_columns=(
        "network_id int4, network_kind int2, channel int2, interval_end timestamptz, value float8,"
        " interval_minutes int2"
    ),
    keys=(
        ("network_id", "s.network_id"),
        ("network_kind", f"{_array_sql('network_kind')}[s.network_kind]"),
        ("channel", f"{_CH}[s.channel]"),
        ("interval_end", "s.interval_end"),
    ),
    values=(
        ("value", "s.value", "s.value"),
        ("interval_minutes", "s.interval_minutes", "s.interval_minutes"),
    ),
    subject="network_id",
    channel="channel",
    at="interval_end",
    revision_key="jsonb_build_object('network_kind', network_kind)",
    revision_value="value",
    revision_extra=("interval_minutes",),
)


def _prepare_stage(cur: Any, measure: Measure) -> None:
    # A temp table per connection, emptied at commit and before each use (a transaction may
    # ingest several batches, e.g. a quarantine replay).
    cur.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {measure.stage} ({measure.stage_columns}) ON COMMIT DELETE ROWS"
    )
    cur.execute(f"TRUNCATE {measure.stage}")


def stage_binary(session: Session, measure: Measure, buffer: bytes) -> None:
    cur = raw_connection(session).cursor()
    try:
        _prepare_stage(cur, measure)
        cur.copy_expert(f"COPY {measure.stage} FROM STDIN WITH (FORMAT binary)", io.BytesIO(buffer))
    finally:
        cur.close()


def stage_events(session: Session, rows: list[tuple[int, int, str, str | None, dict[str, Any]]]) -> None:
    """Events carry JSON snapshots (variable width) and are few: staged as CSV."""
    text_buffer = io.StringIO()
    writer = csv.writer(text_buffer)
    for meter_id, code, occurred, restored, snapshot in rows:
        writer.writerow(
            [meter_id, code, occurred, "" if restored is None else restored, json.dumps(snapshot)]
        )
    cur = raw_connection(session).cursor()
    try:
        _prepare_stage(cur, EVENT)
        text_buffer.seek(0)
        cur.copy_expert(f"COPY {EVENT.stage} FROM STDIN WITH (FORMAT csv)", text_buffer)
    finally:
        cur.close()


@dataclass(frozen=True)
class MergeCounts:
    stored: int
    unchanged: int
    revised: int


def merge(
    session: Session,
    measure: Measure,
    staged: int,
    source: str,
    batch_id: int,
    subjects: list[int],
    span: tuple[Any, Any],
) -> MergeCounts:
    """Insert new keys; for existing keys with a different value keep the old one as a revision.

    `subjects` (meter or network ids) and `span` (first, last time) bound the stored rows the
    staging table is compared with, so the comparison reads them through the primary key
    instead of scanning whole partitions.
    """
    target_cols = [c for c, _ in measure.keys] + [c for c, _, _ in measure.values]
    select_exprs = [e for _, e in measure.keys] + [e for _, e, _ in measure.values]
    if measure.with_quality:
        target_cols.append("quality")
        select_exprs.append("'raw'")
    target_cols += ["source", "batch_id"]
    select_exprs += ["%(source)s", "%(batch_id)s"]
    params = {"source": source, "batch_id": batch_id, "subjects": subjects, "first": span[0], "last": span[1]}
    cur = raw_connection(session).cursor()
    try:
        cur.execute(
            f"INSERT INTO {measure.table} ({', '.join(target_cols)})"  # noqa: S608 - fixed identifiers
            f" SELECT {', '.join(select_exprs)} FROM {measure.stage} s ON CONFLICT DO NOTHING",
            params,
        )
        inserted = cur.rowcount
        if inserted == staged:
            return MergeCounts(stored=inserted, unchanged=0, revised=0)
        revised = _revise(cur, measure, params)
    finally:
        cur.close()
    return MergeCounts(stored=inserted, unchanged=staged - inserted - revised, revised=revised)


def _revise(cur: Any, measure: Measure, params: dict[str, Any]) -> int:
    key_cols = [c for c, _ in measure.keys]
    join = " AND ".join(f"t.{c} = {e}" for c, e in measure.keys)
    new_cols = ", ".join(f"{merged} AS {c}" for c, _, merged in measure.values)
    old_cols = ", ".join(f"t.{c} AS old_{c}" for c, _, _ in measure.values)
    changed = " OR ".join(f"({merged}) IS DISTINCT FROM t.{c}" for c, _, merged in measure.values)
    keys_out = ", ".join(f"t.{c} AS {c}" for c in key_cols)
    sets = ", ".join(f"{c} = o.{c}" for c, _, _ in measure.values)
    match = " AND ".join(f"t.{c} = o.{c}" for c in key_cols)
    old_quality = "old_quality" if measure.with_quality else "NULL"
    quality_col = ", t.quality AS old_quality" if measure.with_quality else ""
    # An analyst's edit is a person's decision: a different value sent later is kept as a
    # revision (applied = false) while the edited value stays in force. The same held value
    # sent again adds nothing. Estimated and raw values are replaced (quality back to raw).
    keep_edit = applied = new_held = "TRUE"
    if measure.with_quality:
        sets += ", quality = 'raw'"
        keep_edit = "o.old_quality IS DISTINCT FROM 'edited'"
        applied = "old_quality IS DISTINCT FROM 'edited'"
        other_keys = [c for c, _ in measure.keys if c not in (measure.subject, measure.channel, measure.at)]
        held_key = "jsonb_build_object(" + ", ".join(f"'{c}', t.{c}" for c in other_keys) + ")"
        channel_match = "" if measure.channel == "NULL" else f" AND r.channel = t.{measure.channel}"
        value_merged = next(m for c, _, m in measure.values if c == measure.revision_value)
        new_held = (
            f"NOT (t.quality = 'edited' AND EXISTS (SELECT 1 FROM reading_revisions r"  # noqa: S608
            f" WHERE r.subject_id = t.{measure.subject} AND r.measure = '{measure.name}'"
            f" AND r.at = t.{measure.at}{channel_match} AND r.key = {held_key} AND NOT r.applied"
            f" AND r.new_value IS NOT DISTINCT FROM ({value_merged})))"
        )

    def extra(prefix: str) -> str:
        return "jsonb_build_object(" + ", ".join(f"'{c}', {prefix}{c}" for c in measure.revision_extra) + ")"

    old_value = "NULL" if measure.revision_value == "NULL" else f"old_{measure.revision_value}"
    cur.execute(
        f"WITH old AS (SELECT {keys_out}, {new_cols}, {old_cols}{quality_col},"  # noqa: S608
        f" t.source AS old_source, t.batch_id AS old_batch_id"
        f" FROM {measure.stage} s JOIN {measure.table} t ON {join}"
        f" WHERE t.{measure.subject} = ANY(%(subjects)s) AND t.{measure.at} BETWEEN %(first)s AND %(last)s"
        f" AND t.batch_id <> %(batch_id)s AND ({changed}) AND {new_held}),"
        f" upd AS (UPDATE {measure.table} t SET {sets}, source = %(source)s, batch_id = %(batch_id)s"
        f" FROM old o WHERE {match} AND t.{measure.subject} = ANY(%(subjects)s)"
        f" AND t.{measure.at} BETWEEN %(first)s AND %(last)s AND {keep_edit})"
        " INSERT INTO reading_revisions (measure, subject_id, channel, at, key, old_value, old_quality,"
        " old_extra, old_source, old_batch_id, new_value, new_extra, new_source, new_batch_id, applied)"
        f" SELECT '{measure.name}', {measure.subject}, {measure.channel}, {measure.at},"
        f" {measure.revision_key}, {old_value}, {old_quality}, {extra('old_')}, old_source,"
        f" old_batch_id, {measure.revision_value}, {extra('')}, %(source)s, %(batch_id)s, {applied} FROM old",
        params,
    )
    return int(cur.rowcount)
