"""Editing many intervals at once with one reason: set one value, or estimate by linear
interpolation between the stored values just outside the range. Originals are kept in
`vee_edits` (as for a single edit), one audit entry covers the range, VEE runs once after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.audit.log import Actor, record
from service.vee.edits import EDITABLE_CHANNELS, EditError
from service.vee.validation import day_window, validate

MAX_RANGE = timedelta(days=35)
MAX_INTERVALS = 35 * 96


@dataclass(frozen=True)
class RangeEdit:
    intervals: int
    mode: str  # "value" | "interpolate"
    first: datetime | None
    last: datetime | None


def edit_range(
    session: Session,
    actor: Actor,
    meter_id: int,
    channel: str,
    start: datetime,
    end: datetime,
    reason: str,
    value: float | None = None,
) -> RangeEdit:
    """Intervals ending in (start, end]: set to `value`, or interpolated when `value` is None."""
    if channel not in EDITABLE_CHANNELS:
        raise EditError(422, "invalid_channel", f"channel must be one of {', '.join(EDITABLE_CHANNELS)}")
    if not reason.strip():
        raise EditError(422, "reason_required", "An edit needs a reason.")
    if end <= start or end - start > MAX_RANGE:
        raise EditError(422, "invalid_range", "Choose an end after the start, at most 35 days later.")
    if value is not None and not (value >= 0 and value < 1e9):
        raise EditError(422, "invalid_value", "value must be a number between 0 and 1e9 kWh.")
    params = {"m": meter_id, "c": channel, "a": start, "b": end}
    rows = session.execute(
        text(
            "SELECT interval_end, value, quality FROM interval_readings WHERE meter_id = :m AND channel = :c"
            " AND interval_end > :a AND interval_end <= :b ORDER BY interval_end FOR UPDATE"
        ),
        params,
    ).all()
    if not rows:
        raise EditError(404, "reading_not_found", "No stored readings of that meter in that range.")
    if len(rows) > MAX_INTERVALS:
        raise EditError(422, "invalid_range", f"At most {MAX_INTERVALS} intervals at once.")
    if value is None:
        new_values = _interpolated(session, meter_id, channel, start, end, [r.interval_end for r in rows])
        mode = "interpolate"
    else:
        new_values = [value] * len(rows)
        mode = "value"
    who = f"{actor.kind}:{actor.name}"
    ends = [r.interval_end for r in rows]
    session.execute(
        text(
            "INSERT INTO vee_edits (measure, meter_id, channel, ts, key, original_value, original_quality,"
            " new_value, reason, edited_by)"
            " SELECT 'interval', :m, :c, t.ts, '{}'::jsonb, r.value, r.quality, t.v, :reason, :who"
            " FROM unnest(CAST(:ends AS timestamptz[]), CAST(:vals AS float8[])) AS t(ts, v)"
            " JOIN interval_readings r ON r.meter_id = :m AND r.channel = :c AND r.interval_end = t.ts"
        ),
        {**params, "ends": ends, "vals": new_values, "reason": reason.strip(), "who": who},
    )
    session.execute(
        text(
            "UPDATE interval_readings r SET value = t.v, quality = 'edited'"
            " FROM unnest(CAST(:ends AS timestamptz[]), CAST(:vals AS float8[])) AS t(ts, v)"
            " WHERE r.meter_id = :m AND r.channel = :c AND r.interval_end = t.ts"
        ),
        {**params, "ends": ends, "vals": new_values},
    )
    session.execute(
        text("DELETE FROM vee_estimates WHERE meter_id = :m AND channel = :c AND ts > :a AND ts <= :b"),
        params,
    )
    record(
        session,
        actor,
        "reading.edit_range",
        "interval_reading",
        f"{meter_id}/{channel}/{ends[0].isoformat()}..{ends[-1].isoformat()}",
        None,
        {"intervals": len(rows), "mode": mode, "value": value, "reason": reason.strip()},
    )
    window_start, window_end = day_window(ends[0], ends[-1])
    validate(session, [meter_id], window_start, window_end)
    return RangeEdit(len(rows), mode, ends[0], ends[-1])


def _interpolated(
    session: Session, meter_id: int, channel: str, start: datetime, end: datetime, ends: list[datetime]
) -> list[float]:
    """A straight line from the nearest trusted value before the range to the one after it (the
    same value throughout when only one side has one)."""
    trusted = "quality IN ('valid', 'edited', 'raw')"
    before = session.execute(
        text(
            f"SELECT interval_end, value FROM interval_readings WHERE meter_id = :m AND channel = :c"  # noqa: S608
            f" AND interval_end <= :a AND interval_end > :a - interval '2 days' AND {trusted}"
            " ORDER BY interval_end DESC LIMIT 1"
        ),
        {"m": meter_id, "c": channel, "a": start},
    ).first()
    after = session.execute(
        text(
            f"SELECT interval_end, value FROM interval_readings WHERE meter_id = :m AND channel = :c"  # noqa: S608
            f" AND interval_end > :b AND interval_end <= :b + interval '2 days' AND {trusted}"
            " ORDER BY interval_end LIMIT 1"
        ),
        {"m": meter_id, "c": channel, "b": end},
    ).first()
    if before is None and after is None:
        raise EditError(422, "nothing_to_interpolate", "No trusted value within 2 days on either side.")
    if before is None or after is None:
        side = before if before is not None else after
        assert side is not None
        return [float(side.value)] * len(ends)
    span = (after.interval_end - before.interval_end).total_seconds()
    return [
        round(
            before.value + (after.value - before.value) * (ts - before.interval_end).total_seconds() / span, 4
        )
        for ts in ends
    ]
