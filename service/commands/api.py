"""HES command API: POST /api/v1/hes/callbacks (results) and GET /api/v1/hes/commands/<id>."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import request
from flask_smorest import Blueprint

from integrations.canonical import ParseError
from integrations.hes.replies import read_callback
from service.api_errors import fail
from service.auth.guards import current_principal, require
from service.auth.scoping import can_see
from service.commands import relay_events, replies, views_data
from service.extensions import db
from service.unit_of_work import unit_of_work

bp = Blueprint(
    "hes_commands_api", __name__, url_prefix="/api/v1/hes", description="HES commands and callbacks"
)
MAX_CALLBACK_BYTES = 1024 * 1024


@bp.route("/callbacks", methods=["POST"])
@require("hes:write")
def post_callback() -> Any:
    """A HES's answer about commands: JSON, an EndDeviceControls reply, or relay EndDeviceEvents.

    Correlated by command id; re-delivering the same callback changes nothing (`duplicates`)."""
    body = request.get_data(cache=False)
    if len(body) > MAX_CALLBACK_BYTES:
        fail(413, "too_large", f"A callback is at most {MAX_CALLBACK_BYTES} bytes.")
    try:
        outcomes = read_callback(body, request.content_type or "")
    except ParseError as exc:
        fail(400, "unreadable_callback", str(exc))
    if not outcomes:
        fail(422, "no_outcomes", "The callback names no command outcome or relay event.")
    session = db.session()
    now = datetime.now(UTC)
    with unit_of_work(session) as uow:
        result = replies.record(session, outcomes, body, request.content_type, now)
        # Relay events are meter events whether or not they answer one of our commands.
        events = relay_events.store_relay_events(session, outcomes, current_principal().actor, now)
        if result.unknown and not result.applied and not result.duplicates and events is None:
            fail(404, "unknown_command", "No command has these ids.", command_ids=result.unknown[:100])
        uow.commit()
    answer: dict[str, Any] = {"applied": result.applied, "duplicates": result.duplicates,
                              "unknown": result.unknown[:100]}  # fmt: skip
    if events is not None:
        answer["events"] = {"batch_id": events.batch_id, **events.counts(), "rejects": events.rejects[:100]}
    return answer


@bp.route("/commands/<command_id>", methods=["GET"])
@require("hes:read")
def get_command(command_id: str) -> Any:
    """One command: meter, action, state, the exact message sent, every reply, timings (IST)."""
    session = db.session()
    found = views_data.command_detail(session, command_id)
    if found is None or not can_see(session, current_principal(), found["org_unit_id"]):
        fail(404, "not_found", f"No command {command_id!r}.")
    return found
