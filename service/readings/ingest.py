"""The one ingest path: every adapter's canonical batch is checked, staged by COPY and merged.

Per measure (intervals, registers, events, network energy): refuse unreadable rows (reported),
resolve meters / feeders / DTRs, quarantine rows of unknown ones, sort the rest by key, COPY
them into a temp table and merge them into the month partitions (service.readings.store).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from integrations.canonical import (
    INTERVAL_CHANNELS,
    INTERVAL_LIMITS,
    NETWORK_LIMITS,
    REGISTER_CHANNELS,
    REGISTER_LIMITS,
    CanonicalBatch,
    Reject,
)
from service.audit.log import Actor, record
from service.auth.scoping import visible_org_unit_ids
from service.masterdata import Dtr, Feeder, Meter
from service.readings import hooks, partitions, quarantine, store
from service.readings.models import IngestBatch, QuarantinedReadings
from service.readings.queueing import enqueue_vee
from service.unit_of_work import collect_after_commit

VEE_PENDING_KEY = "cmdms.readings_vee_pending"
IST_OFFSET_S = 19_800  # grids of 60 min and more follow IST hours and days (UTC+05:30)
FUTURE_TOLERANCE_S = 300  # meter clocks drift; VEE's time rule flags > 5 min
EARLIEST = np.datetime64("2000-01-01T00:00:00", "s")
SNAPSHOT_MAX_DEPTH = 8  # IS 15959 snapshots are flat; nesting beyond this is not a meter's


def _length(column: Any) -> int:
    return int(column.property.columns[0].type.length)


# Identifier limits come from the columns they are stored in (a subject not in master data is
# held in quarantine under its code, so that column bounds it too).
SOURCE_MAX = _length(IngestBatch.source)
MESSAGE_ID_MAX = _length(IngestBatch.message_id)
SERIAL_MAX = min(_length(Meter.serial_number), _length(QuarantinedReadings.subject_code))
NETWORK_CODE_MAX = min(_length(Feeder.code), _length(Dtr.code), _length(QuarantinedReadings.subject_code))


class BatchRefused(ValueError):
    """The batch as a whole cannot be stored (its identity is unusable); nothing is written."""

    def __init__(self, error: str, field: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.error, self.field, self.details = error, field, details


def _check_identity(batch: CanonicalBatch) -> None:
    for name, value, limit in (
        ("source", batch.source, SOURCE_MAX),
        ("message_id", batch.message_id, MESSAGE_ID_MAX),
    ):
        if isinstance(value, str) and len(value) > limit:
            raise BatchRefused(
                "field_too_long",
                name,
                f"{name} is {len(value)} characters long; at most {limit}.",
                limit=limit,
            )
        if isinstance(value, str) and "\x00" in value:
            raise BatchRefused("invalid_field", name, f"{name} holds a NUL character.")


@dataclass
class IngestResult:
    """What became of a batch. `rejects` holds the adapter's rejects and the store's, as dicts."""

    batch_id: int
    stored: int = 0
    unchanged: int = 0
    revised: int = 0
    quarantined: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)
    by_measure: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return len(self.rejects)

    def counts(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "unchanged": self.unchanged,
            "revised": self.revised,
            "quarantined": self.quarantined,
            "rejected": self.rejected,
            "by_measure": self.by_measure,
        }

    def as_dict(self) -> dict[str, Any]:
        return {"batch_id": self.batch_id, **self.counts(), "rejects": self.rejects}

    def _add(self, measure: str, key: str, count: int) -> None:
        setattr(self, key, getattr(self, key) + count)
        per = self.by_measure.setdefault(
            measure, {"stored": 0, "unchanged": 0, "revised": 0, "quarantined": 0}
        )
        per[key] += count


def open_batch(
    session: Session,
    batch: CanonicalBatch,
    actor: Actor,
    *,
    org_unit_id: int | None = None,
    status: str = "stored",
) -> int:
    """The `ingest_batches` row of one delivery (counts and rejects are filled in at its end)."""
    _check_identity(batch)
    return int(
        session.execute(
            insert(IngestBatch)
            .values(
                source=batch.source,
                message_id=batch.message_id,
                actor=f"{actor.kind}:{actor.name}",
                status=status,
                counts={},
                rejects=[],
                meter_ids=[],
                org_unit_id=org_unit_id,
            )
            .returning(IngestBatch.id)
        ).scalar_one()
    )


def ingest_batch(
    session: Session, batch: CanonicalBatch, *, actor: Actor, org_unit_id: int | None = None
) -> IngestResult:
    """Store a canonical batch; return its batch id, counts and every reject.

    Contract: all database work (the `ingest_batches` row, partitions for the batch's months,
    COPY into staging, the merge, revisions, quarantine, the audit entry) runs in the caller's
    transaction on the session's own connection; nothing is committed here. The caller commits
    (then the answer is true) or rolls back (then nothing of the batch exists). After the
    commit the batch is queued for VEE (`service.readings.jobs.batch_stored` on the `vee`
    queue); a periodic sweep re-queues batches still `stored`, so a lost enqueue is recovered.

    Counts: `stored` new keys, `unchanged` keys re-delivered with the same value, `revised`
    keys whose stored value was different (the old one goes to `reading_revisions`),
    `quarantined` rows of meters (feeders, DTRs) not in master data. Rows refused here
    (missing/unknown fields, NaN, off-grid or future timestamps, duplicate keys within the
    batch after the first) are added to the adapter's `batch.rejects` in `rejects`.

    `org_unit_id` is the sender's scope (an API key limited to an org unit): rows of meters,
    feeders and DTRs outside it are refused one by one, and the scope is kept on the batch so
    a quarantine replay applies it too. None: the whole discom.
    """
    batch_id = open_batch(session, batch, actor, org_unit_id=org_unit_id)
    result = IngestResult(batch_id=batch_id, rejects=[r.as_dict() for r in batch.rejects])
    run = _Run(
        session,
        batch,
        result,
        now=np.datetime64(datetime.now(UTC).replace(tzinfo=None), "s"),
        visible=visible_org_unit_ids(session, org_unit_id),
    )
    run.intervals()
    run.registers()
    run.events()
    run.network()
    session.execute(
        update(IngestBatch)
        .where(IngestBatch.id == batch_id)
        .values(
            # The VEE job reads this mark: the batch's intervals were validated as they were stored.
            counts={**result.counts(), **({"validated_at_ingest": True} if run.validated_at_ingest else {})},
            rejects=result.rejects,
            meter_ids=sorted(run.meter_ids),
            first_at=run.first_at,
            last_at=run.last_at,
        )
    )
    record(
        session,
        actor,
        "ingest",
        "ingest_batch",
        str(batch_id),
        None,
        {"source": batch.source, **result.counts()},
    )
    collect_after_commit(session, VEE_PENDING_KEY, batch_id, enqueue_vee)
    return result


def factorize(values: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int64], list[Any]]:
    """Codes and distinct values; fast when equal values come in runs (a meter's day)."""
    n = len(values)
    if n == 0:
        return np.empty(0, np.int64), []
    change = np.empty(n, dtype=bool)
    change[0] = True
    change[1:] = values[1:] != values[:-1]
    heads = np.flatnonzero(change)
    index: dict[Any, int] = {}
    head_codes = np.fromiter((index.setdefault(v, len(index)) for v in values[heads]), np.int64, len(heads))
    return np.repeat(head_codes, np.diff(np.append(heads, n))), list(index)


def vocabulary_codes(values: npt.NDArray[Any], vocabulary: tuple[str, ...]) -> npt.NDArray[np.int16]:
    """1-based codes into `vocabulary`; 0 for values outside it."""
    codes, distinct = factorize(values)
    lookup = np.array([vocabulary.index(v) + 1 if v in vocabulary else 0 for v in distinct], np.int16)
    return lookup[codes] if len(distinct) else np.empty(0, np.int16)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def json_safe(snapshot: Any) -> tuple[Any, int]:
    """A copy with NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity" (JSON has no
    such numbers, and one would fail the COPY of every event beside it), NUL characters
    replaced, and its depth."""

    def leaf(value: Any) -> Any:
        if isinstance(value, float) and not np.isfinite(value):
            return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
        if isinstance(value, str) and "\x00" in value:
            return value.replace("\x00", "\ufffd")  # jsonb refuses NUL in text
        return value

    root: list[Any] = [snapshot]
    stack: list[tuple[Any, int]] = [(root, 0)]
    depth = 0
    # Iterative: a hostile snapshot may be nested as deep as the JSON parser allows.
    while stack:
        node, level = stack.pop()
        depth = max(depth, level)
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(items):
            if isinstance(value, dict):
                node[key] = {leaf(k): v for k, v in value.items()}
                stack.append((node[key], level + 1))
            elif isinstance(value, list):
                node[key] = list(value)
                stack.append((node[key], level + 1))
            else:
                node[key] = leaf(value)
    return root[0], depth


def _iso(ts: np.datetime64) -> str | None:
    return None if np.isnat(ts) else f"{ts.astype('datetime64[s]')}Z"


class _Checks:
    """Refuses rows of one measure, one reason per row, each reported as a Reject."""

    def __init__(self, name: str, meters: npt.NDArray[Any], stamps: npt.NDArray[np.datetime64]) -> None:
        self.name, self.meters, self.stamps = name, meters, stamps
        self.ok = np.ones(len(meters), dtype=bool)
        self.rejects: list[tuple[int, Reject]] = []

    def refuse(self, mask: npt.NDArray[np.bool_], field: str, reason: str | Callable[[int], str]) -> None:
        bad = np.flatnonzero(mask & self.ok)
        for i in bad:
            meter = self.meters[i]
            self.rejects.append(
                (
                    int(i),
                    Reject(
                        locator=f"{self.name}[{i}]",
                        field=field,
                        reason=reason(int(i)) if callable(reason) else reason,
                        meter=meter if isinstance(meter, str) else None,
                        timestamp=_iso(self.stamps[i]),
                    ),
                )
            )
        self.ok[bad] = False

    def outside_scope(self, mask: npt.NDArray[np.bool_], field: str, label: str = "meter") -> None:
        self.refuse(
            mask, field, lambda i: f"{label} {self.meters[i]!r} is outside the org unit of this API key"
        )

    def subject(self, label: str = "meter", max_length: int = SERIAL_MAX) -> None:
        # Checked once per distinct name (a meter's rows come in runs), not once per row.
        codes, distinct = factorize(self.meters)
        named = np.array([isinstance(m, str) and m.strip() != "" for m in distinct], dtype=bool)
        lengths = np.array([len(m) if isinstance(m, str) else 0 for m in distinct], dtype=np.int64)
        nul = np.array([isinstance(m, str) and "\x00" in m for m in distinct], dtype=bool)
        if len(distinct):
            named, lengths, nul = named[codes], lengths[codes], nul[codes]
        self.refuse(~named, label, f"missing {label}")
        self.refuse(
            lengths > max_length,
            label,
            lambda i: f"{label} is {lengths[i]} characters long; at most {max_length}",
        )
        self.refuse(nul, label, f"{label} holds a NUL character")

    def plausible(
        self,
        values: npt.NDArray[np.float64],
        codes: npt.NDArray[Any],
        vocabulary: tuple[str, ...],
        limits: dict[str, tuple[float, float]],
        units: dict[str, str],
    ) -> None:
        """Refuse values outside their channel's plausible range (NaN passes: checked apart)."""
        # A channel without limits (added to a vocabulary later) is not bounded here.
        low = np.array([-np.inf] + [limits.get(c, (-np.inf, np.inf))[0] for c in vocabulary])[codes]
        high = np.array([np.inf] + [limits.get(c, (-np.inf, np.inf))[1] for c in vocabulary])[codes]

        def reason(i: int, side: str, bound: float) -> str:
            channel = vocabulary[codes[i] - 1]
            return f"{channel} {values[i]:g} is {side} the plausible limit of {_number(bound)} {units[channel]}".rstrip()

        with np.errstate(invalid="ignore"):
            self.refuse(values > high, "value", lambda i: reason(i, "above", high[i]))
            self.refuse(values < low, "value", lambda i: reason(i, "below", low[i]))

    def timestamp(self, stamps: npt.NDArray[np.datetime64], field: str, now: np.datetime64) -> None:
        nat = np.isnat(stamps)
        self.refuse(nat, field, "missing or unreadable timestamp")
        self.refuse(~nat & (stamps < EARLIEST), field, "timestamp before 2000-01-01 is not plausible")
        self.refuse(
            ~nat & (stamps > now + np.timedelta64(FUTURE_TOLERANCE_S, "s")),
            field,
            "timestamp is in the future",
        )

    def grid(self, ends: npt.NDArray[np.datetime64], minutes: npt.NDArray[np.int64], field: str) -> None:
        valid = (minutes > 0) & (minutes <= 1440)
        valid[valid] = 1440 % minutes[valid] == 0
        self.refuse(
            ~valid,
            "interval_minutes",
            lambda i: f"{minutes[i]} minutes is not an interval that divides a day",
        )
        seconds = np.where(np.isnat(ends), 0, ends.astype("datetime64[s]").astype(np.int64))
        period = np.where(valid, minutes * 60, 1)
        self.refuse(
            (seconds + IST_OFFSET_S) % period != 0,
            field,
            lambda i: f"interval end is not on the {minutes[i]}-minute grid",
        )

    def duplicates(
        self, order: npt.NDArray[np.intp], keys: list[npt.NDArray[Any]], what: str
    ) -> npt.NDArray[np.intp]:
        """`order` sorts the ok rows by `keys` (stable); later rows with an equal key are refused."""
        if len(order) < 2:
            return order
        same = np.ones(len(order) - 1, dtype=bool)
        for key in keys:
            sorted_key = key[order]
            same &= sorted_key[1:] == sorted_key[:-1]
        dup = np.zeros(len(order), dtype=bool)
        dup[1:] = same
        mask = np.zeros(len(self.ok), dtype=bool)
        mask[order[dup]] = True
        self.refuse(mask, "key", f"duplicate of an earlier {what} in this batch")
        return order[~dup]


class _Run:
    """One batch through the store (split by measure to keep each step readable)."""

    def __init__(
        self,
        session: Session,
        batch: CanonicalBatch,
        result: IngestResult,
        now: np.datetime64,
        visible: set[int] | None = None,
    ) -> None:
        self.session, self.batch, self.result, self.now = session, batch, result, now
        self.visible = visible
        self.meter_ids: set[int] = set()
        self.first_at: datetime | None = None
        self.last_at: datetime | None = None
        self.validated_at_ingest = False

    # -- shared steps ------------------------------------------------------------------------

    def _resolve(
        self, model: Any, column: Any, distinct: list[Any]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Id per distinct name (-1 unknown), and whether it lies outside the sender's scope."""
        names = [d for d in distinct if isinstance(d, str)]
        found: dict[str, tuple[int, int]] = {}
        if names:
            rows = self.session.execute(
                select(column, model.id, model.org_unit_id).where(column.in_(names))
            ).tuples()
            found = {name: (id_, org) for name, id_, org in rows}
        ids = np.array([found.get(d, (-1, 0))[0] for d in distinct], dtype=np.int64)
        visible = self.visible
        outside = np.array(
            [visible is not None and d in found and found[d][1] not in visible for d in distinct], dtype=bool
        )
        return ids, outside

    def _subjects(
        self, model: Any, column: Any, names: npt.NDArray[Any]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Sort key per row: the id when known, else -1 - (code of the name): unique, negative;
        and per row whether the subject lies outside the sender's org unit."""
        codes, distinct = factorize(names)
        if not distinct:
            return np.empty(0, np.int64), np.empty(0, bool)
        ids, outside = self._resolve(model, column, distinct)
        return np.where(ids[codes] >= 0, ids[codes], -1 - codes), outside[codes]

    def _span(self, stamps: npt.NDArray[np.datetime64], table: str) -> tuple[datetime, datetime]:
        first = stamps.min().astype("datetime64[s]").astype(datetime).replace(tzinfo=UTC)
        last = stamps.max().astype("datetime64[s]").astype(datetime).replace(tzinfo=UTC)
        partitions.ensure_partitions(self.session, table, partitions.months_between(first, last))
        self.first_at = first if self.first_at is None else min(self.first_at, first)
        self.last_at = last if self.last_at is None else max(self.last_at, last)
        return first, last

    def _finish(self, measure: str, checks: _Checks) -> None:
        # Reported in row order, whichever check refused them.
        self.result.rejects.extend(r.as_dict() for _, r in sorted(checks.rejects, key=lambda x: x[0]))

    def _quarantine(
        self,
        measure: str,
        subject_kind: str,
        rows: npt.NDArray[np.intp],
        names: npt.NDArray[Any],
        columns: Callable[[npt.NDArray[np.intp]], dict[str, list[Any]]],
    ) -> None:
        if len(rows) == 0:
            return
        codes, distinct = factorize(names[rows])
        for code, name in enumerate(distinct):
            group = rows[codes == code]
            quarantine.hold(
                self.session,
                subject_kind=subject_kind,
                subject_code=name,
                measure=measure,
                payload=columns(group),
                source=self.batch.source,
                message_id=self.batch.message_id,
                batch_id=self.result.batch_id,
            )
        self.result._add(measure, "quarantined", len(rows))

    def _merge(
        self, measure: store.Measure, staged: int, subjects: npt.NDArray[Any], span: tuple[Any, Any]
    ) -> None:
        ids = np.unique(subjects).tolist()
        counts = store.merge(
            self.session, measure, staged, self.batch.source, self.result.batch_id, ids, span
        )
        self.result._add(measure.name, "stored", counts.stored)
        self.result._add(measure.name, "unchanged", counts.unchanged)
        self.result._add(measure.name, "revised", counts.revised)

    def _validate_new(
        self,
        meter_ids: npt.NDArray[np.int64],
        channel_codes: npt.NDArray[Any],
        ends: npt.NDArray[np.datetime64],
        values: npt.NDArray[np.float64],
        minutes: npt.NDArray[np.int64],
    ) -> hooks.Validated | None:
        """An intervals-only batch may be validated while it is in memory (decision 010): the
        ingest validator (VEE) decides, and says which rows it leaves to the VEE job."""
        if not hooks.INGEST_VALIDATORS or len(self.batch.registers) or len(hooks.INGEST_VALIDATORS) > 1:
            return None
        rows = hooks.NewIntervals(
            batch_id=self.result.batch_id,
            meter_ids=meter_ids,
            channels=store.CODES["interval_channel"],
            channel_codes=np.asarray(channel_codes, dtype=np.int64) - 1,
            ends_s=ends.astype("datetime64[s]").astype(np.int64),
            values=values,
            minutes=minutes,
        )
        return hooks.INGEST_VALIDATORS[0](self.session, rows)

    # -- measures ------------------------------------------------------------------------------

    def intervals(self) -> None:
        iv = self.batch.intervals
        if len(iv) == 0:
            return
        meters = np.asarray(iv.meter, dtype=object)
        ends = np.asarray(iv.interval_end).astype("datetime64[s]")
        values = np.asarray(iv.value, dtype=np.float64)
        minutes = np.asarray(iv.interval_minutes).astype(np.int64)
        channels = np.asarray(iv.channel, dtype=object)
        _same_length("intervals", meters, ends, values, minutes, channels)
        checks = _Checks("intervals", meters, ends)
        checks.subject()
        channel_codes = vocabulary_codes(channels, store.CODES["interval_channel"])
        checks.refuse(channel_codes == 0, "channel", lambda i: f"unknown channel {channels[i]!r}")
        checks.timestamp(ends, "interval_end", self.now)
        checks.refuse(~np.isfinite(values), "value", "value is not a number")
        checks.plausible(
            values, channel_codes, store.CODES["interval_channel"], INTERVAL_LIMITS, INTERVAL_CHANNELS
        )
        checks.grid(ends, minutes, "interval_end")
        subjects, outside = self._subjects(Meter, Meter.serial_number, meters)
        checks.outside_scope(outside, "meter")
        ok = np.flatnonzero(checks.ok)
        seconds = ends.astype(np.int64)
        order = ok[np.lexsort((seconds[ok], channel_codes[ok], subjects[ok]))]
        order = checks.duplicates(
            order, [subjects, channel_codes, seconds], "interval (same meter, channel and end)"
        )
        known, unknown = order[subjects[order] >= 0], order[subjects[order] < 0]
        self._quarantine(
            "interval",
            "meter",
            unknown,
            meters,
            lambda g: {
                "channel": channels[g].tolist(),
                "interval_end": [str(t) for t in ends[g]],
                "value": values[g].tolist(),
                "interval_minutes": minutes[g].tolist(),
            },
        )
        self._finish("interval", checks)
        if len(known) == 0:
            return
        self.meter_ids.update(np.unique(subjects[known]).tolist())
        first, last = self._span(ends[known], "interval_readings")
        columns = (
            subjects[known],
            channel_codes[known],
            store.timestamps_us(ends[known]),
            values[known],
            minutes[known],
        )
        validated = self._validate_new(*columns[:2], ends[known], *columns[3:])
        if store.copy_new_intervals(
            self.session,
            *columns,
            self.batch.source,
            self.result.batch_id,
            span=(first, last),
            quality=None if validated is None else validated.quality,
        ):
            self.result._add("interval", "stored", len(known))
            if validated is not None:
                validated.after_store()
                self.validated_at_ingest = True
            return
        dtypes = (">i4", ">i2", ">i8", ">f8", ">i2")
        store.stage_binary(
            self.session, store.INTERVAL, store.binary_copy_buffer(list(zip(dtypes, columns, strict=True)))
        )
        self._merge(store.INTERVAL, len(known), subjects[known], (first, last))

    def registers(self) -> None:
        rg = self.batch.registers
        if len(rg) == 0:
            return
        meters = np.asarray(rg.meter, dtype=object)
        read_at = np.asarray(rg.read_at).astype("datetime64[s]")
        values = np.asarray(rg.value, dtype=np.float64)
        kinds = np.asarray(rg.kind, dtype=object)
        channels = np.asarray(rg.channel, dtype=object)
        zones = np.asarray(rg.tod_zone).astype(np.int64)
        occurred = _optional_stamps(rg.occurred_at, len(values))
        statuses = _optional_objects(rg.reading_status, len(values))
        _same_length("registers", meters, read_at, values, kinds, channels, zones, occurred, statuses)
        checks = _Checks("registers", meters, read_at)
        checks.subject()
        kind_codes = vocabulary_codes(kinds, store.CODES["register_kind"])
        checks.refuse(kind_codes == 0, "kind", lambda i: f"unknown register kind {kinds[i]!r}")
        channel_codes = vocabulary_codes(channels, store.CODES["register_channel"])
        checks.refuse(channel_codes == 0, "channel", lambda i: f"unknown register channel {channels[i]!r}")
        checks.refuse((zones < 0) | (zones > 8), "tod_zone", lambda i: f"TOD zone {zones[i]} is outside 0..8")
        checks.timestamp(read_at, "read_at", self.now)
        has_status = np.fromiter((s is not None for s in statuses), bool, len(statuses))
        status_codes = np.zeros(len(statuses), np.int16)
        if has_status.any():
            status_codes[has_status] = vocabulary_codes(statuses[has_status], store.CODES["reading_status"])
        checks.refuse(
            has_status & (status_codes == 0),
            "reading_status",
            lambda i: f"unknown reading status {statuses[i]!r}",
        )
        # A scalar read whose status says it could not be read (door locked ...) is kept without
        # a value (NaN here, NULL stored): the status is the reading. Elsewhere NaN is refused.
        status_only = (
            np.isnan(values)
            & (kind_codes == store.KIND_SCALAR)
            & (status_codes > 0)
            & (status_codes != store.STATUS_NORMAL)
        )
        checks.refuse(
            np.isnan(values) & ~status_only & (kind_codes == store.KIND_SCALAR),
            "value",
            "value is missing; only a scalar read with a status other than normal may have none",
        )
        checks.refuse(~np.isfinite(values) & ~status_only, "value", "value is not a number")
        checks.plausible(
            values, channel_codes, store.CODES["register_channel"], REGISTER_LIMITS, REGISTER_CHANNELS
        )
        subjects, outside = self._subjects(Meter, Meter.serial_number, meters)
        checks.outside_scope(outside, "meter")
        ok = np.flatnonzero(checks.ok)
        seconds = read_at.astype(np.int64)
        keys: list[npt.NDArray[Any]] = [subjects, kind_codes, channel_codes, zones, seconds]
        order = ok[np.lexsort(tuple(k[ok] for k in reversed(keys)))]
        order = checks.duplicates(order, keys, "register read (same meter, kind, channel, zone and time)")
        known, unknown = order[subjects[order] >= 0], order[subjects[order] < 0]
        self._quarantine(
            "register",
            "meter",
            unknown,
            meters,
            lambda g: {
                "kind": kinds[g].tolist(),
                "channel": channels[g].tolist(),
                "tod_zone": zones[g].tolist(),
                "read_at": [str(t) for t in read_at[g]],
                # JSON has no NaN: a status-only read's missing value is held as null.
                "value": [None if v != v else v for v in values[g].tolist()],
                "occurred_at": [None if np.isnat(t) else str(t) for t in occurred[g]],
                "reading_status": statuses[g].tolist(),
            },
        )
        self._finish("register", checks)
        if len(known) == 0:
            return
        self.meter_ids.update(np.unique(subjects[known]).tolist())
        span = self._span(read_at[known], "register_reads")
        buffer = store.binary_copy_buffer(
            [
                (">i4", subjects[known]),
                (">i2", kind_codes[known]),
                (">i2", channel_codes[known]),
                (">i2", zones[known]),
                (">i8", store.timestamps_us(read_at[known])),
                (">f8", values[known]),
                (">i8", store.timestamps_us(occurred[known])),
                (">i2", status_codes[known]),
            ]
        )
        store.stage_binary(self.session, store.REGISTER, buffer)
        self._merge(store.REGISTER, len(known), subjects[known], span)

    def events(self) -> None:
        ev = self.batch.events
        if len(ev) == 0:
            return
        meters = np.asarray(ev.meter, dtype=object)
        occurred = np.asarray(ev.occurred_at).astype("datetime64[s]")
        codes = np.asarray(ev.code).astype(np.int64)
        restored = _optional_stamps(ev.restored_at, len(codes))
        snapshots = list(ev.snapshot) if len(ev.snapshot) else [{} for _ in range(len(codes))]
        _same_length("events", meters, occurred, codes, restored, snapshots)
        checks = _Checks("events", meters, occurred)
        checks.subject()
        # A CIM event type no mapping names yet is held under a negative code (see
        # integrations.cim.event_types.unmapped_code) until an analyst maps it.
        unmapped = np.fromiter(
            (isinstance(s, dict) and s.get("unmapped") is True and "cim_type" in s for s in snapshots),
            bool,
            len(snapshots),
        )
        checks.refuse(
            ((codes <= 0) & ~(unmapped & (codes < 0))) | (codes > 9999),
            "code",
            lambda i: f"event code {codes[i]} is not an IS 15959 code",
        )
        checks.timestamp(occurred, "occurred_at", self.now)
        checks.refuse(
            ~np.isnat(restored) & (restored < occurred), "restored_at", "restoration is before the occurrence"
        )
        not_dict = np.fromiter((not isinstance(s, dict) for s in snapshots), bool, len(snapshots))
        checks.refuse(not_dict, "snapshot", "snapshot must be an object of values")
        depths = np.zeros(len(snapshots), np.int64)
        for i in np.flatnonzero(~not_dict):
            snapshots[i], depths[i] = json_safe(snapshots[i])
        checks.refuse(
            depths > SNAPSHOT_MAX_DEPTH,
            "snapshot",
            f"snapshot is nested deeper than {SNAPSHOT_MAX_DEPTH} levels",
        )
        subjects, outside = self._subjects(Meter, Meter.serial_number, meters)
        checks.outside_scope(outside, "meter")
        ok = np.flatnonzero(checks.ok)
        seconds = occurred.astype(np.int64)
        order = ok[np.lexsort((seconds[ok], codes[ok], subjects[ok]))]
        order = checks.duplicates(order, [subjects, codes, seconds], "event (same meter, code and time)")
        known, unknown = order[subjects[order] >= 0], order[subjects[order] < 0]
        self._quarantine(
            "event",
            "meter",
            unknown,
            meters,
            lambda g: {
                "code": codes[g].tolist(),
                "occurred_at": [str(t) for t in occurred[g]],
                "restored_at": [None if np.isnat(t) else str(t) for t in restored[g]],
                "snapshot": [snapshots[i] for i in g],
            },
        )
        self._finish("event", checks)
        if len(known) == 0:
            return
        self.meter_ids.update(np.unique(subjects[known]).tolist())
        span = self._span(occurred[known], "meter_events")
        store.stage_events(
            self.session,
            [
                (int(subjects[i]), int(codes[i]), f"{occurred[i]}Z", _iso(restored[i]), snapshots[i])
                for i in known
            ],
        )
        self._merge(store.EVENT, len(known), subjects[known], span)
        stored_codes = frozenset(int(c) for c in np.unique(codes[known]))
        for listener in hooks.EVENTS_LISTENERS:
            listener(self.session, self.result.batch_id, stored_codes)

    def network(self) -> None:
        nw = self.batch.network
        if len(nw) == 0:
            return
        kinds = np.asarray(nw.kind, dtype=object)
        names = np.asarray(nw.code, dtype=object)
        ends = np.asarray(nw.interval_end).astype("datetime64[s]")
        values = np.asarray(nw.value, dtype=np.float64)
        minutes = np.asarray(nw.interval_minutes).astype(np.int64)
        channels = np.asarray(nw.channel, dtype=object)
        _same_length("network", kinds, names, ends, values, minutes, channels)
        checks = _Checks("network", names, ends)
        checks.subject("code", NETWORK_CODE_MAX)
        kind_codes = vocabulary_codes(kinds, store.CODES["network_kind"])
        checks.refuse(kind_codes == 0, "kind", lambda i: f"unknown network kind {kinds[i]!r} (feeder or dtr)")
        channel_codes = vocabulary_codes(channels, store.CODES["interval_channel"])
        checks.refuse(channel_codes == 0, "channel", lambda i: f"unknown channel {channels[i]!r}")
        checks.timestamp(ends, "interval_end", self.now)
        checks.refuse(~np.isfinite(values), "value", "value is not a number")
        checks.plausible(
            values, channel_codes, store.CODES["interval_channel"], NETWORK_LIMITS, INTERVAL_CHANNELS
        )
        checks.grid(ends, minutes, "interval_end")
        subjects = np.full(len(values), -1, np.int64)
        # Feeders and DTRs have separate code spaces: resolve each kind on its own, and keep
        # unknown names of the two kinds apart in the sort key.
        for kind_code, model, label in ((1, Feeder, "feeder"), (2, Dtr, "DTR")):
            rows = np.flatnonzero(kind_codes == kind_code)
            if len(rows):
                resolved, outside_rows = self._subjects(model, model.code, names[rows])
                subjects[rows] = np.where(resolved >= 0, resolved, resolved * 2 - kind_code + 1)
                outside = np.zeros(len(values), dtype=bool)
                outside[rows] = outside_rows
                checks.outside_scope(outside, "code", label)
        ok = np.flatnonzero(checks.ok)
        seconds = ends.astype(np.int64)
        keys: list[npt.NDArray[Any]] = [subjects, kind_codes, channel_codes, seconds]
        order = ok[np.lexsort(tuple(k[ok] for k in reversed(keys)))]
        order = checks.duplicates(order, keys, "interval (same feeder/DTR, channel and end)")
        known, unknown = order[subjects[order] >= 0], order[subjects[order] < 0]
        for kind_code, kind in ((1, "feeder"), (2, "dtr")):
            self._quarantine(
                "network",
                kind,
                unknown[kind_codes[unknown] == kind_code],
                names,
                lambda g: {
                    "kind": kinds[g].tolist(),
                    "channel": channels[g].tolist(),
                    "interval_end": [str(t) for t in ends[g]],
                    "value": values[g].tolist(),
                    "interval_minutes": minutes[g].tolist(),
                },
            )
        self._finish("network", checks)
        if len(known) == 0:
            return
        span = self._span(ends[known], "network_energy")
        buffer = store.binary_copy_buffer(
            [
                (">i4", subjects[known]),
                (">i2", kind_codes[known]),
                (">i2", channel_codes[known]),
                (">i8", store.timestamps_us(ends[known])),
                (">f8", values[known]),
                (">i2", minutes[known]),
            ]
        )
        store.stage_binary(self.session, store.NETWORK, buffer)
        self._merge(store.NETWORK, len(known), subjects[known], span)


def _optional_stamps(column: Any, n: int) -> npt.NDArray[np.datetime64]:
    if column is None or len(column) == 0:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    return np.asarray(column).astype("datetime64[s]")


def _optional_objects(column: Any, n: int) -> npt.NDArray[Any]:
    if column is None or len(column) == 0:
        return np.full(n, None, dtype=object)
    return np.asarray(column, dtype=object)


def _same_length(name: str, *columns: Any) -> None:
    lengths = {len(c) for c in columns}
    if len(lengths) > 1:
        raise ValueError(f"canonical {name} columns differ in length: {sorted(lengths)}")
