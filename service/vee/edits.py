"""Editing a reading: the original is kept in `vee_edits`, the edit is audited and re-validated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from integrations.canonical import INTERVAL_LIMITS
from service.audit.log import Actor, record
from service.vee.models import VeeEdit
from service.vee.validation import day_window, validate

EDITABLE_CHANNELS = ("kwh", "kvah", "kwh_export")


class EditError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class EditResult:
    edit_id: int
    meter_id: int
    original_value: float | None
    original_quality: str
    new_value: float
    quality: str


def edit_interval(
    session: Session,
    actor: Actor,
    meter_id: int,
    channel: str,
    interval_end: datetime,
    value: float,
    reason: str,
) -> EditResult:
    if channel not in EDITABLE_CHANNELS:
        raise EditError(422, "invalid_channel", f"channel must be one of {', '.join(EDITABLE_CHANNELS)}")
    if not reason.strip():
        raise EditError(422, "reason_required", "An edit needs a reason.")
    if "\x00" in reason:
        raise EditError(422, "invalid_reason", "The reason holds a NUL character.")
    # The same plausible range as ingest: an edit cannot store what no sender could.
    low, high = INTERVAL_LIMITS[channel]
    if not (low <= value <= high):
        raise EditError(422, "invalid_value", f"value must be a number from {low:g} to {high:g} kWh.")
    row = session.execute(
        text(
            "SELECT value, quality FROM interval_readings WHERE meter_id = :m AND channel = :c"
            " AND interval_end = :ts FOR UPDATE"
        ),
        {"m": meter_id, "c": channel, "ts": interval_end},
    ).one_or_none()
    if row is None:
        raise EditError(
            404, "reading_not_found", "No stored reading for that meter, channel and interval end."
        )
    edit = VeeEdit(
        measure="interval",
        meter_id=meter_id,
        channel=channel,
        ts=interval_end,
        key={},
        original_value=row.value,
        original_quality=row.quality,
        new_value=value,
        reason=reason.strip(),
        edited_by=f"{actor.kind}:{actor.name}",
    )
    session.add(edit)
    session.execute(
        text(
            "UPDATE interval_readings SET value = :v, quality = 'edited' WHERE meter_id = :m AND channel = :c"
            " AND interval_end = :ts"
        ),
        {"v": value, "m": meter_id, "c": channel, "ts": interval_end},
    )
    session.execute(
        text("DELETE FROM vee_estimates WHERE meter_id = :m AND channel = :c AND ts = :ts"),
        {"m": meter_id, "c": channel, "ts": interval_end},
    )
    session.flush()
    key = f"{meter_id}/{channel}/{interval_end.isoformat()}"
    record(
        session,
        actor,
        "reading.edit",
        "interval_reading",
        key,
        {"value": row.value, "quality": row.quality},
        {"value": value, "quality": "edited", "reason": edit.reason, "edit_id": edit.id},
    )
    start, end = day_window(interval_end, interval_end)
    validate(session, [meter_id], start, end)
    return EditResult(edit.id, meter_id, row.value, row.quality, value, "edited")
