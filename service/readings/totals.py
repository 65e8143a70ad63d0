"""Reads of the store for the API and reports: intervals, registers, events, daily/monthly totals.

Totals are summed in SQL by Indian Standard Time day or month. An interval belongs to the day
in which it starts, so the one ending at 00:00 IST counts for the day before.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.readings.models import VALIDATED_QUALITIES

TIMEZONE = "Asia/Kolkata"
# Channels whose interval values add up (energy); voltages and currents have no totals.
ENERGY_CHANNELS = ("kwh", "kvah", "kvarh_lag", "kvarh_lead", "kwh_export", "kvah_export")


def intervals(
    session: Session, meter_id: int, channel: str, start: datetime, end: datetime, validated: bool
) -> list[dict[str, Any]]:
    """Values with interval end in (start, end], oldest first."""
    rows = session.execute(
        text(
            "SELECT interval_end, value, quality FROM interval_readings"
            " WHERE meter_id = :m AND channel = :c AND interval_end > :s AND interval_end <= :e"
            " AND (NOT :validated OR quality = ANY(:qualities)) ORDER BY interval_end"
        ),
        {"m": meter_id, "c": channel, "s": start, "e": end, **_view(validated)},
    )
    return [{"end": _z(r.interval_end), "value": r.value, "quality": r.quality} for r in rows]


def registers(
    session: Session, meter_id: int, start: datetime, end: datetime, kind: str | None, validated: bool
) -> list[dict[str, Any]]:
    """Register reads with read_at in (start, end]."""
    rows = session.execute(
        text(
            "SELECT kind, channel, tod_zone, read_at, value, occurred_at, reading_status, quality"
            " FROM register_reads WHERE meter_id = :m AND read_at > :s AND read_at <= :e"
            " AND (CAST(:k AS text) IS NULL OR kind = :k)"
            " AND (NOT :validated OR quality = ANY(:qualities)) ORDER BY read_at, kind, channel, tod_zone"
        ),
        {"m": meter_id, "s": start, "e": end, "k": kind, **_view(validated)},
    )
    return [
        {
            "kind": r.kind,
            "channel": r.channel,
            "tod_zone": r.tod_zone,
            "read_at": _z(r.read_at),
            "value": r.value,
            "occurred_at": _z(r.occurred_at),
            "reading_status": r.reading_status,
            "quality": r.quality,
        }
        for r in rows
    ]


def events(session: Session, meter_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Events that occurred in (start, end]."""
    rows = session.execute(
        text(
            "SELECT code, occurred_at, restored_at, snapshot FROM meter_events"
            " WHERE meter_id = :m AND occurred_at > :s AND occurred_at <= :e ORDER BY occurred_at, code"
        ),
        {"m": meter_id, "s": start, "e": end},
    )
    return [
        {
            "code": r.code,
            "occurred_at": _z(r.occurred_at),
            "restored_at": _z(r.restored_at),
            "snapshot": r.snapshot,
        }
        for r in rows
    ]


def totals(
    session: Session, meter_id: int, channel: str, period: str, first: date, last: date, validated: bool
) -> list[dict[str, Any]]:
    """Sum and count of interval values per IST day or month, for IST days first..last inclusive."""
    if period not in ("daily", "monthly"):
        raise ValueError(f"unknown period {period!r}")
    unit = "day" if period == "daily" else "month"
    rows = session.execute(
        text(
            "SELECT date_trunc(:unit, (interval_end - interval '1 second') AT TIME ZONE :tz)::date AS period_start,"
            " sum(value) AS total, count(*) AS intervals FROM interval_readings"
            " WHERE meter_id = :m AND channel = :c"
            " AND interval_end > (CAST(:first AS date)::timestamp AT TIME ZONE :tz)"
            " AND interval_end <= ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE :tz)"
            " AND (NOT :validated OR quality = ANY(:qualities)) GROUP BY 1 ORDER BY 1"
        ),
        {
            "unit": unit,
            "tz": TIMEZONE,
            "m": meter_id,
            "c": channel,
            "first": first,
            "last": last,
            **_view(validated),
        },
    )
    return [
        {
            "period_start": r.period_start.isoformat(),
            "value": round(float(r.total), 6),
            "intervals": r.intervals,
        }
        for r in rows
    ]


def _z(value: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z, as the API promises."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _view(validated: bool) -> dict[str, Any]:
    """With `validated`, only values VEE passed, estimated or edited (the validated view)."""
    return {"validated": validated, "qualities": list(VALIDATED_QUALITIES)}


def last_reads(session: Session, meter_id: int, since: datetime) -> dict[str, Any]:
    """The newest register read (any kind, kWh) and the newest kWh interval after `since`."""
    register = session.execute(
        text(
            "SELECT kind, read_at, value, quality FROM register_reads WHERE meter_id = :m"
            " AND channel = 'kwh' AND read_at > :s ORDER BY read_at DESC LIMIT 1"
        ),
        {"m": meter_id, "s": since},
    ).first()
    interval = session.execute(
        text(
            "SELECT interval_end, value, quality FROM interval_readings WHERE meter_id = :m"
            " AND channel = 'kwh' AND interval_end > :s ORDER BY interval_end DESC LIMIT 1"
        ),
        {"m": meter_id, "s": since},
    ).first()
    return {
        "register": dict(register._mapping) if register else None,
        "interval": dict(interval._mapping) if interval else None,
    }


def last_total_kwh_read(session: Session, meter_id: int, since: datetime) -> tuple[datetime, float] | None:
    """The newest cumulative kWh register read (total, not failed) after `since`: (read_at, kWh)."""
    row = session.execute(
        text(
            "SELECT read_at, value FROM register_reads WHERE meter_id = :m AND channel = 'kwh'"
            " AND tod_zone = 0 AND value IS NOT NULL AND quality <> 'failed' AND read_at > :s"
            " ORDER BY read_at DESC LIMIT 1"
        ),
        {"m": meter_id, "s": since},
    ).first()
    return None if row is None else (row.read_at, float(row.value))
