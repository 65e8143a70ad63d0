"""Read models of HES commands for the API and pages (no writes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commands.models import HesCommand, HesCommandReply
from service.web.times import iso_ist


def _ist(value: datetime | None) -> str | None:
    return None if value is None else iso_ist(value)


def _text(data: bytes | None) -> str | None:
    # Our messages are UTF-8; a reply that is not is shown with its bytes escaped, never altered.
    return None if data is None else data.decode("utf-8", errors="backslashreplace")


def command_detail(session: Session, command_id: str) -> dict[str, Any] | None:
    command = session.scalar(select(HesCommand).where(HesCommand.command_id == command_id))
    if command is None:
        return None
    rows = session.scalars(
        select(HesCommandReply).where(HesCommandReply.command_pk == command.id).order_by(HesCommandReply.id)
    )
    seconds = None
    if command.sent_at and command.finished_at:
        seconds = round((command.finished_at - command.sent_at).total_seconds(), 3)
    return {
        "command_id": command.command_id, "meter": command.meter_serial, "hes": command.hes_code,
        "action": command.action, "state": command.state, "reason": command.reason, "relay": command.relay,
        "org_unit_id": command.org_unit_id, "batch": command.batch_key, "attempts": command.attempts,
        "wire_form": command.wire_form, "content_type": command.content_type, "message": _text(command.message),
        "timings": {
            "created_at": _ist(command.created_at), "held_until": _ist(command.not_before),
            "sent_at": _ist(command.sent_at), "acknowledged_at": _ist(command.acknowledged_at),
            "finished_at": _ist(command.finished_at), "seconds_to_finish": seconds,
        },
        "replies": [
            {"kind": r.kind, "outcome": r.outcome, "content_type": r.content_type, "body": _text(r.body),
             "received_at": _ist(r.received_at)}
            for r in rows
        ],
    }  # fmt: skip
