"""Disconnection for dues and reconnection: DO/RC lists from billing, a part per division with its
process (workflows/disconnect.bpmn, reconnect.bpmn), verification, approval, OTP, HES commands
through service.commands, results, consumer SMS and supply status; the safety rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask


def init_app(app: Flask) -> None:
    from rules.disconnection_safety import load
    from service.commands.replies import FINISHED_LISTENERS
    from service.disconnections import api as disconnection_api
    from service.disconnections import commanding, intake, models  # noqa: F401  (registers the tables)
    from service.disconnections import views as disconnection_views
    from service.disconnections.safety import window_for
    from service.extensions import api, csrf, db
    from service.processes.operations import OperationContext, register_operation
    from service.processes.webhooks import register_handler

    rules = load()
    ports = app.extensions["cmdms.ports"]

    def now() -> datetime:
        clock = ports.get("clock")
        return clock() if clock is not None else datetime.now(UTC)

    def check(params: dict[str, Any], context: OperationContext) -> dict[str, Any]:
        commanding.check_confirmed(db.session(), int(params["part_id"]))
        return {"checked": True}

    def write(session: Any, params: dict[str, Any], context: OperationContext) -> dict[str, Any]:
        at = now()
        return commanding.send_part(session, int(params["part_id"]), window_for(rules, at), at)

    for kind in ("disconnect", "reconnect"):
        register_handler(f"disconnections.{kind}_list", intake.webhook_handler(kind))
    for name in ("disconnection.send", "reconnection.send"):
        register_operation(name, check, backoff_seconds=1.0, max_attempts=3, write=write)
    if commanding.on_commands_finished not in FINISHED_LISTENERS:
        FINISHED_LISTENERS.append(commanding.on_commands_finished)
    csrf.exempt(disconnection_api.systems_bp)
    api.register_blueprint(disconnection_api.systems_bp)
    api.register_blueprint(disconnection_api.staff_bp)
    app.register_blueprint(disconnection_views.bp)
