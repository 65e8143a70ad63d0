"""VEE of new whole meter-days while the batch is in memory: each value stored once, with its flag.

The measurement store calls `validate_new_intervals` (registered as its ingest validator)
before it copies an intervals-only batch of keys never seen. It reads only what the rules need
(meters, the 28-day history aggregates, bracketing registers); the writes that depend on the
rows (failures, estimates, cases) run after the COPY, in the same transaction. Anything else
(partial days, data beside stored rows, revisions) is stored raw and left to the VEE job.
"""

from __future__ import annotations

import time

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from rules.engine import evaluate
from rules.frames import IST_OFFSET_SECONDS
from service.readings.hooks import NewIntervals, Validated
from service.vee import loading, rulebook
from service.vee.validation import VeeSummary, day_window, finish_intervals

DAY_S = 86_400


def whole_days(rows: NewIntervals) -> bool:
    """Every (meter, channel) sends every interval of each local day it touches."""
    minutes = rows.minutes.astype(np.int64)
    if len(minutes) == 0 or (minutes <= 0).any():
        return False
    day = (rows.ends_s + IST_OFFSET_SECONDS - 1) // DAY_S
    # One int64 per (meter, channel, day, minutes): meter ids < 2^31, 16 channel codes, days
    # since 1970 < 2^16, minutes < 2^11 (a structured np.unique is ten times slower).
    keys = ((rows.meter_ids.astype(np.int64) << 4 | rows.channel_codes) << 16 | day) << 11 | minutes
    groups, counts = np.unique(keys, return_counts=True)
    return bool((counts == 1440 // (groups & 0x7FF)).all())


def validate_new_intervals(session: Session, rows: NewIntervals) -> Validated | None:
    """Flags for the rows, or None to leave them raw for the VEE job."""
    if not whole_days(rows):
        return None
    first = loading.utc(int(rows.ends_s.min()))
    last = loading.utc(int(rows.ends_s.max()))
    start, end = day_window(first, last)
    ids = np.unique(rows.meter_ids)
    # Stored rows of these meters in these days (another channel, an earlier push) belong in
    # the same frame: then the job validates the days from the store.
    if session.execute(
        text(
            # One probe per (meter, channel) on the key's prefix and the span: a scan of
            # `meter_id = ANY(...)` alone would read each meter's whole month.
            "SELECT EXISTS (SELECT 1 FROM unnest(CAST(:ids AS int[])) m(id)"
            " CROSS JOIN unnest(CAST(:channels AS text[])) c(ch) CROSS JOIN LATERAL ("
            " SELECT 1 FROM interval_readings r WHERE r.meter_id = m.id AND r.channel = c.ch"
            " AND r.interval_end > :start AND r.interval_end <= :end LIMIT 1) x)"
        ),
        {"ids": ids.tolist(), "channels": list(rows.channels), "start": start, "end": end},
    ).scalar_one():
        return None
    meters = loading.load_meters(session, ids.tolist(), start, end)
    if len(meters.ids) != len(ids):
        return None
    stored = list(rows.channels)
    frame, _ = loading.pivot_columns(
        rows.meter_ids, rows.channel_codes, rows.ends_s, rows.values,
        np.zeros(len(rows.ends_s), dtype=np.int8), np.full(len(rows.ends_s), None, dtype=object),
        meters, stored, loading.INTERVAL_CHANNELS, "interval",
    )  # fmt: skip
    row_meter = meters.index(rows.meter_ids)
    first_row = np.unique(row_meter, return_index=True)[1]
    meters.table.interval_minutes[row_meter[first_row]] = rows.minutes[first_row].astype(np.int64)
    rule_sets = rulebook.rule_sets(session, "interval")
    loading.load_interval_history(session, meters, start)
    evaluation = evaluate(rule_sets, frame, meters.table, int(time.time()))
    frame_keys = (frame.meter << 32) | frame.ts
    at = np.searchsorted(frame_keys, (row_meter << 32) | rows.ends_s)
    quality = loading.QUALITY_NAMES[evaluation.quality[at]]

    def after_store() -> None:
        finish_intervals(session, meters, frame, evaluation, start, end, rows.batch_id, VeeSummary())

    return Validated(quality=quality, after_store=after_store)
