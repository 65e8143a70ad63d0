"""VEE of a meter set and time range: load, run the rules in force, write flags, failures and
estimates. Used by the per-batch hook, re-runs and edits; idempotent (results replace)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from rules.engine import Evaluation, evaluate
from rules.estimation import AVERAGE_DAILY, DAYS_A_MONTH, estimate_intervals
from rules.frames import IST_OFFSET_SECONDS, Q_EDITED, Q_ESTIMATED, Q_FAILED, Frame
from service import aggregates
from service.vee import loading, results, rulebook
from service.vee.actions import open_cases

DAY = timedelta(days=1)


@dataclass
class VeeSummary:
    readings: int = 0
    failures: int = 0
    estimated: int = 0
    flags_changed: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return dict(vars(self))


def day_window(first: datetime, last: datetime) -> tuple[datetime, datetime]:
    """Whole local (IST) days covering [first, last]; an interval ending 00:00 closes the day before."""
    offset = timedelta(seconds=IST_OFFSET_SECONDS)
    start_day = ((first + offset - timedelta(seconds=1)).astimezone(UTC)).replace(tzinfo=None).date()
    end_day = ((last + offset - timedelta(seconds=1)).astimezone(UTC)).replace(tzinfo=None).date()
    start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=UTC) - offset
    end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=UTC) - offset + DAY
    return start, end


def validate_batch(session: Session, batch_id: int) -> None:
    """Hook for the measurement store's per-batch job (service.readings.hooks)."""
    row = session.execute(
        text("SELECT meter_ids, first_at, last_at, counts FROM ingest_batches WHERE id = :id"),
        {"id": batch_id},
    ).one_or_none()
    if row is None or not row.meter_ids or row.first_at is None:
        return
    start, end = day_window(row.first_at, row.last_at)
    if (row.counts or {}).get("validated_at_ingest"):
        # Intervals only, validated as they were stored (service.vee.at_ingest): what is left
        # is what follows validation.
        aggregates.refresh(session, list(row.meter_ids), *aggregates.local_days_of(start, end))
        return
    validate(session, list(row.meter_ids), start, end, batch_id=batch_id)


def validate(
    session: Session, meter_ids: list[int], start: datetime, end: datetime, batch_id: int | None = None
) -> VeeSummary:
    summary = VeeSummary()
    if not meter_ids:
        return summary
    meters = loading.load_meters(session, meter_ids, start, end)
    if len(meters.ids) == 0:
        return summary
    now_s = int(time.time())
    _intervals(session, meters, start, end, batch_id, now_s, summary)
    for scalar in (False, True):
        _registers(session, meters, start, end, batch_id, now_s, scalar, summary)
    aggregates.refresh(session, [int(m) for m in meters.ids], *aggregates.local_days_of(start, end))
    return summary


def _intervals(
    session: Session,
    meters: loading.Meters,
    start: datetime,
    end: datetime,
    batch_id: int | None,
    now_s: int,
    summary: VeeSummary,
) -> None:
    frame = loading.load_intervals(session, meters, start, end)
    rule_sets = rulebook.rule_sets(session, "interval")
    if len(frame) == 0:
        return  # a meter that sent nothing for the range has no rows to judge
    loading.load_interval_history(session, meters, start)
    evaluation = evaluate(rule_sets, frame, meters.table, now_s)
    summary.flags_changed += results.write_quality(
        session, "interval_readings", frame, meters, evaluation.quality, (start, end)
    )
    finish_intervals(session, meters, frame, evaluation, start, end, batch_id, summary)


def finish_intervals(
    session: Session,
    meters: loading.Meters,
    frame: Frame,
    evaluation: Evaluation,
    start: datetime,
    end: datetime,
    batch_id: int | None,
    summary: VeeSummary,
) -> None:
    """Once the flags are stored: failures, estimates into gaps and over failed rows, cases."""
    summary.failures += results.replace_failures(
        session, "interval", meters, start, end, evaluation, batch_id
    )
    replace = evaluation.replace_rows
    gaps = dict(evaluation.gaps)
    if replace.any():
        idx = np.flatnonzero(replace)
        step = meters.table.interval_minutes[frame.meter[idx]] * 60
        gaps = {
            "meter": np.concatenate([gaps["meter"], frame.meter[idx]]),
            "first_ts": np.concatenate([gaps["first_ts"], frame.ts[idx]]),
            "count": np.concatenate([gaps["count"], np.ones(len(idx), dtype=np.int64)]),
            "step_s": np.concatenate([gaps["step_s"], step]),
        }
    if len(gaps["meter"]):
        trusted = frame.take(np.flatnonzero(~replace & (evaluation.quality != Q_FAILED)))
        history = loading.load_history_frame(session, meters, gaps["meter"], start)
        estimates = estimate_intervals(gaps, trusted, history, meters.table)
        summary.estimated += results.write_interval_estimates(
            session, meters, estimates, frame, batch_id or 0
        )
    results.drop_superseded_estimates(session, meters, start, end)
    open_cases(session, evaluation, meters)
    summary.readings += len(frame)
    summary.by_kind["interval"] = len(frame)


def _registers(
    session: Session,
    meters: loading.Meters,
    start: datetime,
    end: datetime,
    batch_id: int | None,
    now_s: int,
    scalar: bool,
    summary: VeeSummary,
) -> None:
    frame = loading.load_registers(session, meters, start, end, scalar)
    if len(frame) == 0:
        return
    kind = frame.kind
    evaluation = evaluate(rulebook.rule_sets(session, kind), frame, meters.table, now_s)
    summary.flags_changed += results.write_quality(
        session, "register_reads", frame, meters, evaluation.quality, (start, end)
    )
    summary.failures += results.replace_failures(session, kind, meters, start, end, evaluation, batch_id)
    if scalar and evaluation.replace_rows.any():
        summary.estimated += _estimate_scalar(session, frame, meters, evaluation.replace_rows)
    open_cases(session, evaluation, meters)
    summary.readings += len(frame)
    summary.by_kind[kind] = len(frame)


# One statement for every read to estimate: the last read with a value before it (the same
# batch's earlier months included), the average monthly use of up to 7 reads before it, the
# UPDATE of reads still failed, and an estimate row only for the reads it updated.
ESTIMATE_SCALAR = text(
    """
    WITH target AS (
        SELECT * FROM unnest(CAST(:meters AS bigint[]), CAST(:ts AS bigint[])) AS t(meter_id, epoch)
    ), basis AS (
        SELECT t.meter_id, to_timestamp(t.epoch) AS read_at, prev.read_at AS prev_at, prev.value AS prev_value,
               hist.monthly
        FROM target t
        CROSS JOIN LATERAL (
            SELECT r.read_at, r.value FROM register_reads r
            WHERE r.meter_id = t.meter_id AND r.kind = 'scalar' AND r.channel = 'kwh' AND r.tod_zone = 0
              AND r.read_at < to_timestamp(t.epoch) AND r.value IS NOT NULL AND r.quality <> 'failed'
              AND r.read_at > :since AND r.read_at < :until
            ORDER BY r.read_at DESC LIMIT 1
        ) prev
        CROSS JOIN LATERAL (
            SELECT (max(h.value) - min(h.value)) / NULLIF(count(*) - 1, 0) AS monthly FROM (
                SELECT r.value FROM register_reads r
                WHERE r.meter_id = t.meter_id AND r.kind = 'scalar' AND r.channel = 'kwh' AND r.tod_zone = 0
                  AND r.read_at < to_timestamp(t.epoch) AND r.value IS NOT NULL AND r.quality <> 'failed'
                  AND r.read_at > :since AND r.read_at < :until
                ORDER BY r.read_at DESC LIMIT 7
            ) h
        ) hist
    ), estimate AS (
        SELECT meter_id, read_at,
               round(CAST(prev_value + monthly / :days_a_month
                          * extract(epoch FROM read_at - prev_at) / 86400 AS numeric), 3) AS value
        FROM basis WHERE monthly IS NOT NULL
    ), updated AS (
        UPDATE register_reads r SET value = e.value, quality = 'estimated'
        FROM estimate e, register_reads before
        WHERE r.meter_id = e.meter_id AND r.kind = 'scalar' AND r.channel = 'kwh' AND r.tod_zone = 0
          AND r.read_at = e.read_at AND r.quality = 'failed'
          AND r.meter_id = ANY(:ids) AND r.read_at BETWEEN :first AND :until
          AND before.meter_id = ANY(:ids) AND before.read_at BETWEEN :first AND :until
          AND before.meter_id = r.meter_id AND before.kind = r.kind AND before.channel = r.channel
          AND before.tod_zone = r.tod_zone AND before.read_at = r.read_at
        RETURNING r.meter_id, r.read_at, r.value, before.value AS original_value
    ), recorded AS (
        INSERT INTO vee_estimates (meter_id, channel, ts, value, method, original_value, original_quality)
        SELECT meter_id, 'scalar_kwh', read_at, value, :method, original_value, 'failed' FROM updated
        ON CONFLICT (meter_id, channel, ts) DO UPDATE
            SET value = excluded.value, method = excluded.method, original_value = excluded.original_value
        RETURNING 1
    )
    SELECT count(*) FROM recorded
    """
)


def _estimate_scalar(session: Session, frame: Frame, meters: loading.Meters, replace: np.ndarray) -> int:
    """Scalar reads that cannot be billed (door locked ...) become previous + average daily use × days."""
    idx = np.flatnonzero(replace & (frame.quality_in != Q_EDITED) & (frame.quality_in != Q_ESTIMATED))
    if len(idx) == 0:
        return 0
    ts = frame.ts[idx]
    params = {
        "meters": [int(v) for v in meters.ids[frame.meter[idx]]],
        "ts": [int(v) for v in ts],
        # Constant bounds, so that only the partitions of the reads and the look-back are read.
        "ids": sorted({int(v) for v in meters.ids[frame.meter[idx]]}),
        "since": loading.utc(int(ts.min())) - loading.REGISTER_LOOKBACK,
        "first": loading.utc(int(ts.min())),
        "until": loading.utc(int(ts.max())),
        "days_a_month": DAYS_A_MONTH,
        "method": AVERAGE_DAILY,
    }
    return int(session.execute(ESTIMATE_SCALAR, params).scalar_one())


def meters_of(session: Session, meter_serials: list[str]) -> list[int]:
    from service.masterdata import Meter

    return list(session.scalars(select(Meter.id).where(Meter.serial_number.in_(meter_serials))))
